//! Kerberos v5 (RFC 4120) messages from port 88: a stateless parser in the
//! capture source (stage 2) that turns one UDP datagram, or one TCP record
//! after its 4-byte record mark, into a typed message: AS and TGS requests
//! and replies with their principals, realms and encryption types, and
//! KRB-ERROR with its code. The Zeek `kerberos.log` record built from these
//! lives in `report::zeek_app::kerberos`.

pub use crate::analyzer::ber::ParseError;
use crate::analyzer::ber::{self, Class, Tlv, universal};

/// A Kerberos message type (`msg-type`, also the APPLICATION tag number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgType(pub u32);

impl MsgType {
    /// AS-REQ.
    pub const AS_REQ: MsgType = MsgType(10);
    /// AS-REP.
    pub const AS_REP: MsgType = MsgType(11);
    /// TGS-REQ.
    pub const TGS_REQ: MsgType = MsgType(12);
    /// TGS-REP.
    pub const TGS_REP: MsgType = MsgType(13);
    /// AP-REQ.
    pub const AP_REQ: MsgType = MsgType(14);
    /// AP-REP.
    pub const AP_REP: MsgType = MsgType(15);
    /// KRB-ERROR.
    pub const KRB_ERROR: MsgType = MsgType(30);

    /// `"AS"` or `"TGS"` for the KDC exchanges (Zeek's `request_type`).
    pub fn request_type(self) -> Option<&'static str> {
        match self.0 {
            10 | 11 => Some("AS"),
            12 | 13 => Some("TGS"),
            _ => None,
        }
    }
}

/// An encryption type number (RFC 3961 registry); unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EncType(pub i32);

impl EncType {
    /// RC4-HMAC, the type Kerberoasting asks for.
    pub const RC4_HMAC: EncType = EncType(23);

    /// The name Zeek logs for this type (`KRB::cipher_name`), if known.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "des-cbc-crc",
            2 => "des-cbc-md4",
            3 => "des-cbc-md5",
            5 => "des3-cbc-md5",
            7 => "des3-cbc-sha1",
            16 => "des3-cbc-sha1-kd",
            17 => "aes128-cts-hmac-sha1-96",
            18 => "aes256-cts-hmac-sha1-96",
            19 => "aes128-cts-hmac-sha256-128",
            20 => "aes256-cts-hmac-sha384-192",
            23 => "rc4-hmac",
            24 => "rc4-hmac-exp",
            25 => "camellia128-cts-cmac",
            26 => "camellia256-cts-cmac",
            _ => return None,
        })
    }
}

/// A KRB-ERROR code; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// The client principal is not in the database (user enumeration).
    pub const C_PRINCIPAL_UNKNOWN: ErrorCode = ErrorCode(6);
    /// Pre-authentication failed (wrong password).
    pub const PREAUTH_FAILED: ErrorCode = ErrorCode(24);
    /// Pre-authentication required (the normal first answer to an AS-REQ).
    pub const PREAUTH_REQUIRED: ErrorCode = ErrorCode(25);

    /// The RFC 4120 name of the code, as Zeek logs it in `error_msg`.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "KDC_ERR_NONE",
            1 => "KDC_ERR_NAME_EXP",
            2 => "KDC_ERR_SERVICE_EXP",
            3 => "KDC_ERR_BAD_PVNO",
            4 => "KDC_ERR_C_OLD_MAST_KVNO",
            5 => "KDC_ERR_S_OLD_MAST_KVNO",
            6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
            7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
            8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
            9 => "KDC_ERR_NULL_KEY",
            10 => "KDC_ERR_CANNOT_POSTDATE",
            11 => "KDC_ERR_NEVER_VALID",
            12 => "KDC_ERR_POLICY",
            13 => "KDC_ERR_BADOPTION",
            14 => "KDC_ERR_ETYPE_NOSUPP",
            15 => "KDC_ERR_SUMTYPE_NOSUPP",
            16 => "KDC_ERR_PADATA_TYPE_NOSUPP",
            17 => "KDC_ERR_TRTYPE_NOSUPP",
            18 => "KDC_ERR_CLIENT_REVOKED",
            19 => "KDC_ERR_SERVICE_REVOKED",
            20 => "KDC_ERR_TGT_REVOKED",
            21 => "KDC_ERR_CLIENT_NOTYET",
            22 => "KDC_ERR_SERVICE_NOTYET",
            23 => "KDC_ERR_KEY_EXPIRED",
            24 => "KDC_ERR_PREAUTH_FAILED",
            25 => "KDC_ERR_PREAUTH_REQUIRED",
            26 => "KDC_ERR_SERVER_NOMATCH",
            27 => "KDC_ERR_MUST_USE_USER2USER",
            28 => "KDC_ERR_PATH_NOT_ACCEPTED",
            29 => "KDC_ERR_SVC_UNAVAILABLE",
            31 => "KRB_AP_ERR_BAD_INTEGRITY",
            32 => "KRB_AP_ERR_TKT_EXPIRED",
            33 => "KRB_AP_ERR_TKT_NYV",
            34 => "KRB_AP_ERR_REPEAT",
            35 => "KRB_AP_ERR_NOT_US",
            36 => "KRB_AP_ERR_BADMATCH",
            37 => "KRB_AP_ERR_SKEW",
            38 => "KRB_AP_ERR_BADADDR",
            39 => "KRB_AP_ERR_BADVERSION",
            40 => "KRB_AP_ERR_MSG_TYPE",
            41 => "KRB_AP_ERR_MODIFIED",
            42 => "KRB_AP_ERR_BADORDER",
            44 => "KRB_AP_ERR_BADKEYVER",
            45 => "KRB_AP_ERR_NOKEY",
            46 => "KRB_AP_ERR_MUT_FAIL",
            47 => "KRB_AP_ERR_BADDIRECTION",
            48 => "KRB_AP_ERR_METHOD",
            49 => "KRB_AP_ERR_BADSEQ",
            50 => "KRB_AP_ERR_INAPP_CKSUM",
            51 => "KRB_AP_PATH_NOT_ACCEPTED",
            52 => "KRB_ERR_RESPONSE_TOO_BIG",
            60 => "KRB_ERR_GENERIC",
            61 => "KRB_ERR_FIELD_TOOLONG",
            62 => "KDC_ERROR_CLIENT_NOT_TRUSTED",
            63 => "KDC_ERROR_KDC_NOT_TRUSTED",
            64 => "KDC_ERROR_INVALID_SIG",
            65 => "KDC_ERR_KEY_TOO_WEAK",
            66 => "KDC_ERR_CERTIFICATE_MISMATCH",
            67 => "KRB_AP_ERR_NO_TGT",
            68 => "KDC_ERR_WRONG_REALM",
            69 => "KRB_AP_ERR_USER_TO_USER_REQUIRED",
            70 => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
            71 => "KDC_ERR_INVALID_CERTIFICATE",
            72 => "KDC_ERR_REVOKED_CERTIFICATE",
            73 => "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
            74 => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
            75 => "KDC_ERR_CLIENT_NAME_MISMATCH",
            76 => "KDC_ERR_KDC_NAME_MISMATCH",
            _ => return None,
        })
    }
}

/// A principal name: its type and its components (`krbtgt`, `REALM`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalName {
    /// `name-type` (1 principal, 2 service instance, ...).
    pub name_type: i32,
    /// `name-string`, each component as text (invalid UTF-8 replaced).
    pub parts: Vec<String>,
}

impl PrincipalName {
    /// The components joined with `/`, as Zeek writes a principal.
    pub fn joined(&self) -> String {
        self.parts.join("/")
    }
}

/// KDC options bits (a BIT STRING, bit 0 the most significant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KdcOptions(pub u32);

impl KdcOptions {
    /// The forwardable flag (bit 1).
    pub fn forwardable(self) -> bool {
        self.0 & (1 << 30) != 0
    }
    /// The renewable flag (bit 8).
    pub fn renewable(self) -> bool {
        self.0 & (1 << 23) != 0
    }
}

/// An AS-REQ or TGS-REQ.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KdcRequest {
    /// AS-REQ or TGS-REQ.
    pub msg_type: Option<MsgType>,
    /// Pre-authentication data types carried (`padata-type`s).
    pub pa_types: Vec<i32>,
    /// KDC options.
    pub options: KdcOptions,
    /// Client principal (AS-REQ; absent in TGS-REQ).
    pub client: Option<PrincipalName>,
    /// Realm of the service (and of the client in an AS-REQ).
    pub realm: String,
    /// Service principal asked for.
    pub service: Option<PrincipalName>,
    /// `from`, as `YYYYMMDDHHMMSSZ`.
    pub from: Option<String>,
    /// `till`, as `YYYYMMDDHHMMSSZ`.
    pub till: Option<String>,
    /// Requested encryption types in the client's order of preference.
    pub etypes: Vec<EncType>,
}

/// An AS-REP or TGS-REP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KdcReply {
    /// AS-REP or TGS-REP.
    pub msg_type: Option<MsgType>,
    /// The client's realm.
    pub client_realm: String,
    /// The client principal.
    pub client: PrincipalName,
    /// The ticket's realm.
    pub ticket_realm: String,
    /// The ticket's service principal.
    pub service: PrincipalName,
    /// Encryption type of the ticket's encrypted part.
    pub ticket_etype: EncType,
    /// Encryption type of the reply's encrypted part (the client's key).
    pub reply_etype: EncType,
}

/// A KRB-ERROR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KrbError {
    /// The error code.
    pub code: ErrorCode,
    /// Client realm, if given.
    pub client_realm: Option<String>,
    /// Client principal, if given.
    pub client: Option<PrincipalName>,
    /// The service's realm.
    pub realm: String,
    /// The service principal.
    pub service: PrincipalName,
    /// `e-text`, if given.
    pub text: Option<String>,
}

/// An AP-REQ, as carried in a GSS-API token (SMB session setup): the
/// client's name is in the encrypted authenticator, so only the ticket's
/// clear part is known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApRequest {
    /// The ticket's realm.
    pub realm: String,
    /// The ticket's service principal (`cifs/host.example.com`).
    pub service: PrincipalName,
    /// Encryption type of the ticket's encrypted part.
    pub ticket_etype: EncType,
    /// Whether the server accepted it (its carrier's outcome), if known.
    pub accepted: Option<bool>,
}

/// One Kerberos message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// AS-REQ or TGS-REQ.
    Request(KdcRequest),
    /// AS-REP or TGS-REP.
    Reply(KdcReply),
    /// KRB-ERROR.
    Error(KrbError),
    /// An AP-REQ read from a GSS-API token ([`parse_ap_request`];
    /// [`parse_message`] gives `Other` for one).
    ApRequest(ApRequest),
    /// Any other message (AP-REQ, AP-REP, KRB-PRIV, ...), by type.
    Other(MsgType),
}

/// Splits the first record off a TCP byte stream: a 4-byte big-endian
/// length (its top bit reserved, must be clear) then the message. Returns
/// the message and the rest of the stream.
pub fn parse_tcp_record(stream: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let mark = stream
        .get(..4)
        .ok_or(ParseError::Truncated("kerberos record mark"))?;
    let len = u32::from_be_bytes([mark[0], mark[1], mark[2], mark[3]]);
    if len & 0x8000_0000 != 0 {
        return Err(ParseError::Malformed("kerberos record mark reserved bit"));
    }
    let len = usize::try_from(len).map_err(|_| ParseError::Malformed("kerberos length"))?;
    let end = 4usize
        .checked_add(len)
        .ok_or(ParseError::Malformed("kerberos length"))?;
    let msg = stream
        .get(4..end)
        .ok_or(ParseError::Truncated("kerberos record"))?;
    Ok((msg, stream.get(end..).unwrap_or(&[])))
}

/// Parses one Kerberos message (a UDP payload, or one TCP record's body).
pub fn parse_message(bytes: &[u8]) -> Result<Message, ParseError> {
    let (app, _) = ber::read_tlv(bytes)?;
    if app.class != Class::Application || !app.constructed {
        return Err(ParseError::Malformed("kerberos: not an application tag"));
    }
    let msg_type = MsgType(app.tag);
    let (seq, _) = ber::expect(
        app.body,
        Class::Universal,
        universal::SEQUENCE,
        "kerberos: sequence",
    )?;
    match msg_type.0 {
        10 | 12 => parse_request(&seq, msg_type).map(Message::Request),
        11 | 13 => parse_reply(&seq, msg_type).map(Message::Reply),
        30 => parse_error(&seq).map(Message::Error),
        _ => Ok(Message::Other(msg_type)),
    }
}

fn int32(t: &Tlv<'_>) -> Result<i32, ParseError> {
    i32::try_from(t.int()?).map_err(|_| ParseError::Malformed("kerberos: integer range"))
}

fn string(t: &Tlv<'_>) -> String {
    String::from_utf8_lossy(t.body).into_owned()
}

fn principal(t: &Tlv<'_>) -> Result<PrincipalName, ParseError> {
    let [name_type, names] = ber::context_fields::<2>(t)?;
    let mut parts = Vec::new();
    if let Some(names) = names {
        for part in names.children() {
            parts.push(string(&part?));
        }
    }
    Ok(PrincipalName {
        name_type: name_type.as_ref().map(int32).transpose()?.unwrap_or(0),
        parts,
    })
}

fn encrypted_etype(t: &Tlv<'_>) -> Result<EncType, ParseError> {
    let [etype, ..] = ber::context_fields::<3>(t)?;
    let etype = etype.ok_or(ParseError::Malformed(
        "kerberos: encrypted data without etype",
    ))?;
    Ok(EncType(int32(&etype)?))
}

fn parse_request(seq: &Tlv<'_>, msg_type: MsgType) -> Result<KdcRequest, ParseError> {
    let [_, _, _, padata, body] = ber::context_fields::<5>(seq)?;
    let mut req = KdcRequest {
        msg_type: Some(msg_type),
        ..Default::default()
    };
    if let Some(padata) = padata {
        for pa in padata.children() {
            let [_, pa_type, _] = ber::context_fields::<3>(&pa?)?;
            if let Some(t) = pa_type {
                req.pa_types.push(int32(&t)?);
            }
        }
    }
    let body = body.ok_or(ParseError::Malformed("kerberos: request without body"))?;
    let f = ber::context_fields::<9>(&body)?;
    if let Some(Some(opts)) = f.first() {
        // BIT STRING: one byte of unused-bit count, then the bits.
        let bits = opts.body.get(1..).unwrap_or(&[]);
        let mut v = 0u32;
        for i in 0..4 {
            v = (v << 8) | u32::from(bits.get(i).copied().unwrap_or(0));
        }
        req.options = KdcOptions(v);
    }
    if let Some(Some(c)) = f.get(1) {
        req.client = Some(principal(c)?);
    }
    if let Some(Some(r)) = f.get(2) {
        req.realm = string(r);
    }
    if let Some(Some(s)) = f.get(3) {
        req.service = Some(principal(s)?);
    }
    req.from = f.get(4).and_then(|t| t.as_ref()).map(string);
    req.till = f.get(5).and_then(|t| t.as_ref()).map(string);
    if let Some(Some(etypes)) = f.get(8) {
        for e in etypes.children() {
            req.etypes.push(EncType(int32(&e?)?));
        }
    }
    Ok(req)
}

fn parse_reply(seq: &Tlv<'_>, msg_type: MsgType) -> Result<KdcReply, ParseError> {
    let [_, _, _, crealm, cname, ticket, enc] = ber::context_fields::<7>(seq)?;
    let mut rep = KdcReply {
        msg_type: Some(msg_type),
        ..Default::default()
    };
    rep.client_realm = crealm.as_ref().map(string).unwrap_or_default();
    if let Some(c) = cname {
        rep.client = principal(&c)?;
    }
    let ticket = ticket.ok_or(ParseError::Malformed("kerberos: reply without ticket"))?;
    (rep.ticket_realm, rep.service, rep.ticket_etype) = parse_ticket(&ticket)?;
    if let Some(e) = enc {
        rep.reply_etype = encrypted_etype(&e)?;
    }
    Ok(rep)
}

/// A Ticket (`[APPLICATION 1]`): its realm, service principal and the
/// encryption type of its encrypted part (all in clear).
fn parse_ticket(ticket: &Tlv<'_>) -> Result<(String, PrincipalName, EncType), ParseError> {
    if ticket.class != Class::Application || ticket.tag != 1 {
        return Err(ParseError::Malformed("kerberos: ticket tag"));
    }
    let (tseq, _) = ber::expect(
        ticket.body,
        Class::Universal,
        universal::SEQUENCE,
        "kerberos: ticket sequence",
    )?;
    let [_, realm, sname, tenc] = ber::context_fields::<4>(&tseq)?;
    let realm = realm.as_ref().map(string).unwrap_or_default();
    let service = sname
        .as_ref()
        .map(principal)
        .transpose()?
        .unwrap_or_default();
    let etype = tenc
        .as_ref()
        .map(encrypted_etype)
        .transpose()?
        .unwrap_or_default();
    Ok((realm, service, etype))
}

/// Parses an AP-REQ (`[APPLICATION 14]`, as a GSS-API Kerberos token
/// carries it after its OID and token id `01 00`): the ticket's realm,
/// service and cipher. `accepted` is left unset.
pub fn parse_ap_request(bytes: &[u8]) -> Result<ApRequest, ParseError> {
    let (app, _) = ber::read_tlv(bytes)?;
    if app.class != Class::Application || !app.constructed || app.tag != MsgType::AP_REQ.0 {
        return Err(ParseError::Malformed("kerberos: not an AP-REQ"));
    }
    let (seq, _) = ber::expect(
        app.body,
        Class::Universal,
        universal::SEQUENCE,
        "kerberos: AP-REQ sequence",
    )?;
    let [_, _, _, ticket] = ber::context_fields::<4>(&seq)?;
    let ticket = ticket.ok_or(ParseError::Malformed("kerberos: AP-REQ without ticket"))?;
    let (realm, service, ticket_etype) = parse_ticket(&ticket)?;
    Ok(ApRequest {
        realm,
        service,
        ticket_etype,
        accepted: None,
    })
}

fn parse_error(seq: &Tlv<'_>) -> Result<KrbError, ParseError> {
    let f = ber::context_fields::<12>(seq)?;
    let get = |i: usize| f.get(i).and_then(|t| t.as_ref());
    let code = get(6).ok_or(ParseError::Malformed("kerberos: error without code"))?;
    Ok(KrbError {
        code: ErrorCode(int32(code)?),
        client_realm: get(7).map(string),
        client: get(8).map(principal).transpose()?,
        realm: get(9).map(string).unwrap_or_default(),
        service: get(10).map(principal).transpose()?.unwrap_or_default(),
        text: get(11).map(string),
    })
}

/// Seconds since the Unix epoch of a KerberosTime (`YYYYMMDDHHMMSSZ`).
pub fn kerberos_time_secs(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 15 || b.get(14) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let s = text.get(from..to)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, m, d) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hh, mm, ss) = (num(8, 10)?, num(10, 12)?, num(12, 14)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER for `[n] EXPLICIT inner`.
    fn ctx(n: u8, inner: &[u8]) -> Vec<u8> {
        tlv(0xa0 | n, inner)
    }

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if body.len() < 128 {
            out.push(body.len() as u8);
        } else {
            out.push(0x82);
            out.extend((body.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn int(v: u8) -> Vec<u8> {
        tlv(0x02, &[v])
    }

    fn gstr(s: &str) -> Vec<u8> {
        tlv(0x1b, s.as_bytes())
    }

    fn name(t: u8, parts: &[&str]) -> Vec<u8> {
        let names: Vec<u8> = parts.iter().flat_map(|p| gstr(p)).collect();
        tlv(
            0x30,
            &[ctx(0, &int(t)), ctx(1, &tlv(0x30, &names))].concat(),
        )
    }

    fn as_req() -> Vec<u8> {
        let etypes = [int(18), int(23)].concat();
        let body = tlv(
            0x30,
            &[
                ctx(0, &tlv(0x03, &[0, 0x40, 0x81, 0, 0x10])),
                ctx(1, &name(1, &["alice"])),
                ctx(2, &gstr("CORP.LOCAL")),
                ctx(3, &name(2, &["krbtgt", "CORP.LOCAL"])),
                ctx(5, &tlv(0x18, b"20370913024805Z")),
                ctx(7, &int(7)),
                ctx(8, &tlv(0x30, &etypes)),
            ]
            .concat(),
        );
        let seq = tlv(
            0x30,
            &[ctx(1, &int(5)), ctx(2, &int(10)), ctx(4, &body)].concat(),
        );
        tlv(0x6a, &seq)
    }

    #[test]
    fn as_request_principals_etypes_and_options() {
        let Message::Request(r) = parse_message(&as_req()).unwrap() else {
            panic!("not a request")
        };
        assert_eq!(r.msg_type, Some(MsgType::AS_REQ));
        assert_eq!(r.client.unwrap().joined(), "alice");
        assert_eq!(r.realm, "CORP.LOCAL");
        assert_eq!(r.service.unwrap().joined(), "krbtgt/CORP.LOCAL");
        assert_eq!(r.etypes, vec![EncType(18), EncType::RC4_HMAC]);
        assert!(r.options.forwardable() && r.options.renewable());
        assert_eq!(r.till.as_deref(), Some("20370913024805Z"));
        assert_eq!(kerberos_time_secs("20370913024805Z"), Some(2_136_422_885));
    }

    #[test]
    fn error_code_and_names() {
        let seq = tlv(
            0x30,
            &[
                ctx(0, &int(5)),
                ctx(1, &int(30)),
                ctx(4, &tlv(0x18, b"20200101000000Z")),
                ctx(5, &int(1)),
                ctx(6, &int(24)),
                ctx(9, &gstr("CORP.LOCAL")),
                ctx(10, &name(2, &["krbtgt", "CORP.LOCAL"])),
            ]
            .concat(),
        );
        let Message::Error(e) = parse_message(&tlv(0x7e, &seq)).unwrap() else {
            panic!("not an error")
        };
        assert_eq!(e.code, ErrorCode::PREAUTH_FAILED);
        assert_eq!(e.code.name(), Some("KDC_ERR_PREAUTH_FAILED"));
        assert_eq!(e.service.joined(), "krbtgt/CORP.LOCAL");
        assert!(e.client.is_none());
        assert_eq!(ErrorCode(999).name(), None);
    }

    #[test]
    fn tcp_record_mark_and_every_truncation() {
        let msg = as_req();
        let mut stream = (msg.len() as u32).to_be_bytes().to_vec();
        stream.extend_from_slice(&msg);
        stream.push(0xaa);
        let (m, rest) = parse_tcp_record(&stream).unwrap();
        assert_eq!((m, rest), (&msg[..], &[0xaa][..]));
        assert!(parse_tcp_record(&[0x80, 0, 0, 1, 0]).is_err());
        for cut in 0..msg.len() {
            assert!(parse_message(&msg[..cut]).is_err(), "cut at {cut}");
        }
    }
}
