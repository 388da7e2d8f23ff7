//! NTLMSSP messages in, accounts out: the NTLM analyzer, called by the
//! carriers that hold NTLM tokens (SMB session setup, DCE-RPC auth
//! verifiers, HTTP `Authorization` headers).
//!
//! Reads the AUTHENTICATE message's user, domain and workstation and tells
//! NTLMv1 from NTLMv2 by the NT response's length; reads the CHALLENGE
//! message's target names (the server's NetBIOS and DNS names). Every
//! offset and length comes from the message and is checked against it.

/// The NTLMSSP signature every message starts with.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Longest name kept from a message (bytes of UTF-8).
const MAX_NAME: usize = 256;

/// What an AUTHENTICATE message says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authenticate {
    /// Account name.
    pub user: String,
    /// Account domain.
    pub domain: String,
    /// Client workstation name.
    pub workstation: String,
    /// `NTLMv1`, `NTLMv2`, or `anonymous` (empty responses).
    pub version: &'static str,
}

/// What a CHALLENGE message says about the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// Server NetBIOS computer name (AV pair 1).
    pub nb_computer: Option<String>,
    /// Server NetBIOS domain name (AV pair 2).
    pub nb_domain: Option<String>,
    /// Server DNS computer name (AV pair 3).
    pub dns_computer: Option<String>,
    /// Server DNS domain name (AV pair 4).
    pub dns_domain: Option<String>,
}

/// One NTLMSSP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Type 1.
    Negotiate,
    /// Type 2.
    Challenge(Challenge),
    /// Type 3.
    Authenticate(Authenticate),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The bytes a (length, max length, offset) field at `at` points to.
fn field(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16_at(msg, at)?);
    let off = u32_at(msg, at + 4)? as usize;
    msg.get(off..off.checked_add(len)?)
}

/// UTF-16LE (or OEM bytes when `unicode` is false) as text, cut to a sane length.
pub fn text(b: &[u8], unicode: bool) -> String {
    let mut s = if unicode {
        let units = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    } else {
        String::from_utf8_lossy(b).into_owned()
    };
    if s.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Parses one NTLMSSP message starting at `msg`.
pub fn parse(msg: &[u8]) -> Option<Message> {
    if msg.get(..8)? != SIGNATURE {
        return None;
    }
    match u32_at(msg, 8)? {
        1 => Some(Message::Negotiate),
        2 => {
            let flags = u32_at(msg, 20)?;
            let unicode = flags & 1 != 0;
            let mut c = Challenge::default();
            if let Some(mut info) = field(msg, 40) {
                // AV pairs: id, length, value; MsvAvEOL (0) ends them.
                while let (Some(id), Some(len)) = (u16_at(info, 0), u16_at(info, 2)) {
                    let len = usize::from(len);
                    let Some(value) = info.get(4..4 + len) else {
                        break;
                    };
                    let v = || Some(text(value, unicode)).filter(|s| !s.is_empty());
                    match id {
                        0 => break,
                        1 => c.nb_computer = v(),
                        2 => c.nb_domain = v(),
                        3 => c.dns_computer = v(),
                        4 => c.dns_domain = v(),
                        _ => {}
                    }
                    info = info.get(4 + len..).unwrap_or(&[]);
                }
            }
            Some(Message::Challenge(c))
        }
        3 => {
            // Flags sit at 60 in every AUTHENTICATE message.
            let flags = u32_at(msg, 60).unwrap_or(1);
            let unicode = flags & 1 != 0;
            let nt_len = u16_at(msg, 20)?;
            let lm_len = u16_at(msg, 12)?;
            let version = match nt_len {
                0 if lm_len <= 1 => "anonymous",
                0..=24 => "NTLMv1",
                _ => "NTLMv2",
            };
            Some(Message::Authenticate(Authenticate {
                domain: field(msg, 28).map(|b| text(b, unicode)).unwrap_or_default(),
                user: field(msg, 36).map(|b| text(b, unicode)).unwrap_or_default(),
                workstation: field(msg, 44).map(|b| text(b, unicode)).unwrap_or_default(),
                version,
            }))
        }
        _ => None,
    }
}

/// Finds an NTLMSSP message inside a security blob (raw, or wrapped in
/// SPNEGO's DER) and parses it.
pub fn find(blob: &[u8]) -> Option<Message> {
    let at = blob.windows(SIGNATURE.len()).position(|w| w == SIGNATURE)?;
    parse(blob.get(at..)?)
}

/// Kerberos mechanism OIDs (1.2.840.113554.1.2.2 and Microsoft's
/// 1.2.840.48018.1.2.2) as DER contents.
const KRB5_OIDS: [&[u8]; 2] = [
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02],
    &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02],
];

/// The authentication a security blob carries: `NTLM`, `Kerberos` or `None`.
pub fn mechanism(blob: &[u8]) -> Option<&'static str> {
    if blob.windows(SIGNATURE.len()).any(|w| w == SIGNATURE) {
        return Some("NTLM");
    }
    // An AP-REQ's token id after the OID, or the OID alone in a mechToken.
    for oid in KRB5_OIDS {
        if let Some(at) = blob.windows(oid.len()).position(|w| w == oid) {
            // In a NegTokenInit the OID list names every mechanism offered;
            // a Kerberos token follows its OID with the AP-REQ id 01 00.
            let rest = blob.get(at + oid.len()..).unwrap_or(&[]);
            if rest.starts_with(&[0x01, 0x00]) {
                return Some("Kerberos");
            }
        }
    }
    None
}

/// The Kerberos AP-REQ of a security blob: the bytes after a Kerberos OID
/// followed by the AP-REQ token id `01 00`, parsed; `None` if there is
/// none or it does not parse.
pub fn kerberos_ap_request(blob: &[u8]) -> Option<crate::analyzer::kerberos::ApRequest> {
    // The OIDs also appear in SPNEGO's list of mechanisms offered: look
    // at each place one is, for the one a token follows.
    KRB5_OIDS.iter().find_map(|oid| {
        blob.windows(oid.len())
            .enumerate()
            .filter(|(_, w)| w == oid)
            .find_map(|(at, _)| {
                let rest = blob.get(at + oid.len()..)?.strip_prefix(&[0x01, 0x00])?;
                crate::analyzer::kerberos::parse_ap_request(rest).ok()
            })
    })
}

/// Decodes standard base64 (padding optional); `None` on a bad character.
/// The one decoder of the analyzers (NTLM tokens, HTTP `Authorization`).
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Longest `Authorization` token decoded (base64 text).
const MAX_TOKEN: usize = 64 << 10;

/// The NTLM message (or Kerberos mark) in the `Authorization:` header of an
/// HTTP request head, as WinRM sends it (`Negotiate` or `NTLM` scheme).
pub fn from_http(head: &[u8]) -> Option<(&'static str, Option<Message>)> {
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        if !name.eq_ignore_ascii_case(b"authorization") {
            continue;
        }
        let value = value.get(1..).unwrap_or(&[]).trim_ascii();
        let sp = value.iter().position(|b| *b == b' ')?;
        let (scheme, token) = value.split_at(sp);
        if !(scheme.eq_ignore_ascii_case(b"negotiate")
            || scheme.eq_ignore_ascii_case(b"ntlm")
            || scheme.eq_ignore_ascii_case(b"kerberos"))
        {
            return None;
        }
        let token = token.trim_ascii();
        let blob = base64_decode(token.get(..token.len().min(MAX_TOKEN))?)?;
        return match mechanism(&blob) {
            Some("NTLM") => Some(("NTLM", find(&blob))),
            Some(m) => Some((m, None)),
            None if scheme.eq_ignore_ascii_case(b"kerberos") => Some(("Kerberos", None)),
            None => None,
        };
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// An AUTHENTICATE message with the given names and NT response length.
    pub(crate) fn authenticate(user: &str, domain: &str, ws: &str, nt_len: usize) -> Vec<u8> {
        let (d, u, w) = (utf16(domain), utf16(user), utf16(ws));
        let mut m = SIGNATURE.to_vec();
        m.extend_from_slice(&3u32.to_le_bytes());
        let base = 72u32;
        let mut payload = Vec::new();
        let mut fields = Vec::new();
        for part in [vec![0u8; 24], vec![0x11; nt_len], d, u, w, Vec::new()] {
            let off = base + payload.len() as u32;
            fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
            fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
            fields.extend_from_slice(&off.to_le_bytes());
            payload.extend_from_slice(&part);
        }
        m.extend_from_slice(&fields);
        m.extend_from_slice(&0x6208_8215u32.to_le_bytes());
        m.extend_from_slice(&[0u8; 8]);
        m.extend_from_slice(&payload);
        m
    }

    #[test]
    fn authenticate_gives_account_workstation_and_version() {
        let m = authenticate("pgustavo", "THESHIRE", "WORKSTATION5", 300);
        let Some(Message::Authenticate(a)) = parse(&m) else {
            panic!("not parsed");
        };
        assert_eq!(
            (
                a.user.as_str(),
                a.domain.as_str(),
                a.workstation.as_str(),
                a.version
            ),
            ("pgustavo", "THESHIRE", "WORKSTATION5", "NTLMv2")
        );
        let m = authenticate("bob", "CORP", "WS1", 24);
        assert!(matches!(parse(&m), Some(Message::Authenticate(a)) if a.version == "NTLMv1"));
    }

    #[test]
    fn every_cut_and_corruption_of_a_message_is_survived() {
        let m = authenticate("pgustavo", "THESHIRE", "WORKSTATION5", 300);
        for cut in 0..m.len() {
            let _ = parse(m.get(..cut).unwrap_or(&[]));
        }
        for i in 12..72 {
            let mut bad = m.clone();
            bad[i] = 0xff;
            let _ = parse(&bad);
        }
    }

    #[test]
    fn http_authorization_header_carries_ntlm() {
        let m = authenticate("alice", "CORP", "WS9", 100);
        let b64 = {
            const T: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut s = String::new();
            for c in m.chunks(3) {
                let n = (u32::from(c[0]) << 16)
                    | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..4 {
                    if i <= c.len() {
                        s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    } else {
                        s.push('=');
                    }
                }
            }
            s
        };
        let head =
            format!("POST /wsman HTTP/1.1\r\nHost: x\r\nAuthorization: Negotiate {b64}\r\n\r\n");
        let Some(("NTLM", Some(Message::Authenticate(a)))) = from_http(head.as_bytes()) else {
            panic!("no NTLM found");
        };
        assert_eq!(a.user, "alice");
        assert_eq!(from_http(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), None);
    }
}
