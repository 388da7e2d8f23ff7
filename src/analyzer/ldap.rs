//! LDAP (RFC 4511) over TCP 389, in the capture source (stage 2): the
//! LDAPMessages in the in-order bytes of one direction. Binds give the
//! bind name and method (simple, or the SASL mechanism); searches the base
//! DN, scope, a bounded text form of the filter and the attributes, and
//! [`HighValue`] flags for the reconnaissance lateral movement starts with
//! (privileged groups, `adminCount=1`, service principal names, `krbtgt`,
//! delegation and pre-authentication bits of `userAccountControl`). Messages
//! wrapped by a SASL security layer after a signing bind are counted, not read.

pub use crate::analyzer::ber::ParseError;
use crate::analyzer::ber::{self, Class, Tlv, universal};

/// Most messages read from one direction.
pub const MAX_MESSAGES: usize = 100_000;
/// Longest filter text kept; longer ones end with `…`.
pub const MAX_FILTER_TEXT: usize = 2048;
/// Deepest filter nesting read.
pub const MAX_FILTER_DEPTH: usize = 32;

/// An LDAP operation (the APPLICATION tag of `protocolOp`); unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpCode(pub u32);

impl OpCode {
    /// The name Zeek logs as `opcode`.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "bind",
            1 => "bind",
            2 => "unbind",
            3 => "search",
            4 => "search_entry",
            5 => "search_done",
            6 | 7 => "modify",
            8 | 9 => "add",
            10 | 11 => "delete",
            12 | 13 => "modify_dn",
            14 | 15 => "compare",
            16 => "abandon",
            19 => "search_ref",
            23 | 24 => "extended",
            25 => "intermediate",
            _ => return None,
        })
    }
}

/// An LDAP result code; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ResultCode(pub i64);

impl ResultCode {
    /// The RFC 4511 name, as Zeek writes it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "success",
            1 => "operations_error",
            2 => "protocol_error",
            3 => "time_limit_exceeded",
            4 => "size_limit_exceeded",
            7 => "auth_method_not_supported",
            8 => "stronger_auth_required",
            10 => "referral",
            14 => "sasl_bind_in_progress",
            32 => "no_such_object",
            34 => "invalid_dn_syntax",
            48 => "inappropriate_authentication",
            49 => "invalid_credentials",
            50 => "insufficient_access_rights",
            51 => "busy",
            52 => "unavailable",
            53 => "unwilling_to_perform",
            _ => return None,
        })
    }
}

/// How a bind authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindMethod {
    /// Simple bind; whether a password was given (it is not kept).
    Simple {
        /// A non-empty password was sent.
        password: bool,
    },
    /// SASL with this mechanism (`GSS-SPNEGO`, `GSSAPI`, `EXTERNAL`, ...).
    Sasl(String),
    /// Another authentication choice, by tag.
    Other(u32),
}

/// A reconnaissance target a search asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HighValue {
    /// `adminCount=1`: accounts protected as administrators.
    AdminCount,
    /// `servicePrincipalName` asked for: Kerberoastable accounts.
    ServicePrincipalName,
    /// Domain, Enterprise or Schema Admins, or Administrators, by name.
    PrivilegedGroup,
    /// The `krbtgt` account.
    Krbtgt,
    /// `userAccountControl` with DONT_REQ_PREAUTH: AS-REP roastable accounts.
    NoPreauth,
    /// `userAccountControl` delegation bits, or the delegation attributes.
    Delegation,
    /// `userAccountControl` SERVER_TRUST_ACCOUNT: domain controllers.
    DomainControllers,
    /// `trustedDomain` objects: the domain's trusts.
    Trusts,
    /// Computers (`objectCategory=computer` or `objectClass=computer`):
    /// the hosts to move to.
    Computers,
}

impl HighValue {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            HighValue::AdminCount => "admin_count",
            HighValue::ServicePrincipalName => "service_principal_name",
            HighValue::PrivilegedGroup => "privileged_group",
            HighValue::Krbtgt => "krbtgt",
            HighValue::NoPreauth => "no_preauth",
            HighValue::Delegation => "delegation",
            HighValue::DomainControllers => "domain_controllers",
            HighValue::Trusts => "trusts",
            HighValue::Computers => "computers",
        }
    }
}

/// A search request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Search {
    /// Base DN.
    pub base: String,
    /// Scope (0 base, 1 one level, 2 subtree).
    pub scope: i64,
    /// Alias dereferencing.
    pub deref: i64,
    /// The filter in RFC 4515 text form, bounded.
    pub filter: String,
    /// Attributes asked for.
    pub attributes: Vec<String>,
    /// What the search is after, sorted, without repeats.
    pub high_value: Vec<HighValue>,
}

/// A result (`LDAPResult`) of a response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LdapResult {
    /// Result code.
    pub code: ResultCode,
    /// Matched DN.
    pub matched_dn: String,
    /// Diagnostic message.
    pub diagnostic: String,
}

/// What an LDAP message does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// BindRequest.
    Bind {
        /// Protocol version.
        version: i64,
        /// Bind DN or name.
        name: String,
        /// Method.
        method: BindMethod,
    },
    /// SearchRequest.
    Search(Search),
    /// Any response carrying an LDAPResult (bind, search done, modify, ...).
    Result(LdapResult),
    /// A search result entry with its DN.
    Entry(String),
    /// Any other operation.
    Other,
}

/// One LDAPMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `messageID`.
    pub id: i64,
    /// The operation code.
    pub opcode: OpCode,
    /// What it does.
    pub op: Operation,
}

/// The messages of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Messages in order.
    pub messages: Vec<Message>,
    /// SASL-wrapped (signed or sealed) buffers seen and skipped.
    pub wrapped: u32,
    /// Why reading stopped early, if it did.
    pub error: Option<ParseError>,
}

fn text(t: &Tlv<'_>) -> String {
    String::from_utf8_lossy(t.body).into_owned()
}

/// Parses one LDAPMessage.
pub fn parse_message(seq: &Tlv<'_>) -> Result<Message, ParseError> {
    if seq.class != Class::Universal || seq.tag != universal::SEQUENCE {
        return Err(ParseError::Malformed("ldap message not a sequence"));
    }
    let mut it = seq.children();
    let id = it
        .next()
        .ok_or(ParseError::Malformed("ldap message id"))??
        .int()?;
    let op = it.next().ok_or(ParseError::Malformed("ldap operation"))??;
    if op.class != Class::Application {
        return Err(ParseError::Malformed("ldap operation tag"));
    }
    let opcode = OpCode(op.tag);
    let mut fields = op.children();
    let mut next = || fields.next().transpose();
    let operation = match op.tag {
        0 => {
            let version = next()?
                .ok_or(ParseError::Malformed("ldap bind version"))?
                .int()?;
            let name = next()?.map(|t| text(&t)).unwrap_or_default();
            let auth = next()?.ok_or(ParseError::Malformed("ldap bind authentication"))?;
            let method = match (auth.class, auth.tag) {
                (Class::Context, 0) => BindMethod::Simple {
                    password: !auth.body.is_empty(),
                },
                (Class::Context, 3) => {
                    let mech = auth
                        .children()
                        .next()
                        .transpose()?
                        .map(|t| text(&t))
                        .unwrap_or_default();
                    BindMethod::Sasl(mech)
                }
                (_, tag) => BindMethod::Other(tag),
            };
            Operation::Bind {
                version,
                name,
                method,
            }
        }
        3 => {
            let base = next()?.map(|t| text(&t)).unwrap_or_default();
            let scope = next()?.map(|t| t.int()).transpose()?.unwrap_or(0);
            let deref = next()?.map(|t| t.int()).transpose()?.unwrap_or(0);
            next()?; // size limit
            next()?; // time limit
            next()?; // types only
            let filter_tlv = next()?.ok_or(ParseError::Malformed("ldap search filter"))?;
            let mut filter = String::new();
            filter_text(&filter_tlv, 0, &mut filter)?;
            let mut attributes = Vec::new();
            if let Some(attrs) = next()? {
                for a in attrs.children() {
                    attributes.push(text(&a?));
                }
            }
            let high_value = high_value(&base, &filter, &attributes);
            Operation::Search(Search {
                base,
                scope,
                deref,
                filter,
                attributes,
                high_value,
            })
        }
        4 => Operation::Entry(next()?.map(|t| text(&t)).unwrap_or_default()),
        1 | 5 | 7 | 9 | 11 | 13 | 15 | 24 => {
            let code = next()?
                .ok_or(ParseError::Malformed("ldap result code"))?
                .int()?;
            Operation::Result(LdapResult {
                code: ResultCode(code),
                matched_dn: next()?.map(|t| text(&t)).unwrap_or_default(),
                diagnostic: next()?.map(|t| text(&t)).unwrap_or_default(),
            })
        }
        _ => Operation::Other,
    };
    Ok(Message {
        id,
        opcode,
        op: operation,
    })
}

fn push_bounded(out: &mut String, s: &str) {
    if out.len() >= MAX_FILTER_TEXT {
        return;
    }
    let room = MAX_FILTER_TEXT - out.len();
    if s.len() <= room {
        out.push_str(s);
    } else {
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(s.get(..cut).unwrap_or(""));
        out.push('…');
    }
}

/// Writes a filter in RFC 4515 form (values as text, lossy).
fn filter_text(f: &Tlv<'_>, depth: usize, out: &mut String) -> Result<(), ParseError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(ParseError::Malformed("ldap filter too deep"));
    }
    if f.class != Class::Context {
        return Err(ParseError::Malformed("ldap filter tag"));
    }
    push_bounded(out, "(");
    match f.tag {
        0..=2 => {
            push_bounded(
                out,
                ["&", "|", "!"].get(f.tag as usize).copied().unwrap_or(""),
            );
            for c in f.children() {
                filter_text(&c?, depth + 1, out)?;
            }
        }
        3 | 5 | 6 | 8 => {
            let mut it = f.children();
            let attr = it.next().transpose()?.map(|t| text(&t)).unwrap_or_default();
            let value = it.next().transpose()?.map(|t| text(&t)).unwrap_or_default();
            let op = match f.tag {
                5 => ">=",
                6 => "<=",
                8 => "~=",
                _ => "=",
            };
            push_bounded(out, &format!("{attr}{op}{value}"));
        }
        4 => {
            let mut it = f.children();
            let attr = it.next().transpose()?.map(|t| text(&t)).unwrap_or_default();
            push_bounded(out, &attr);
            push_bounded(out, "=");
            let mut last_final = false;
            if let Some(parts) = it.next().transpose()? {
                for (i, p) in parts.children().enumerate() {
                    let p = p?;
                    // An initial part opens the value; every other part follows a `*`.
                    if i > 0 || p.tag != 0 {
                        push_bounded(out, "*");
                    }
                    last_final = p.tag == 2;
                    push_bounded(out, &text(&p));
                }
            }
            if !last_final {
                push_bounded(out, "*");
            }
        }
        7 => push_bounded(out, &format!("{}=*", text(f))),
        9 => {
            let mut rule = String::new();
            let mut attr = String::new();
            let mut value = String::new();
            let mut dn = false;
            for c in f.children() {
                let c = c?;
                match c.tag {
                    1 => rule = text(&c),
                    2 => attr = text(&c),
                    3 => value = text(&c),
                    4 => dn = c.body.first().is_some_and(|b| *b != 0),
                    _ => {}
                }
            }
            let mut s = attr;
            if dn {
                s.push_str(":dn");
            }
            if !rule.is_empty() {
                s.push(':');
                s.push_str(&rule);
            }
            s.push_str(":=");
            s.push_str(&value);
            push_bounded(out, &s);
        }
        _ => push_bounded(out, "?"),
    }
    push_bounded(out, ")");
    Ok(())
}

/// userAccountControl bits searched for with a bitwise matching rule.
const UAC_NO_PREAUTH: u64 = 0x0040_0000;
const UAC_TRUSTED_FOR_DELEGATION: u64 = 0x0008_0000;
const UAC_TRUSTED_TO_AUTH_FOR_DELEGATION: u64 = 0x0100_0000;
const UAC_SERVER_TRUST_ACCOUNT: u64 = 0x2000;

/// What a search is after, judged from its base, filter text and attributes.
pub fn high_value(base: &str, filter: &str, attributes: &[String]) -> Vec<HighValue> {
    let f = filter.to_ascii_lowercase();
    let b = base.to_ascii_lowercase();
    let mut out = Vec::new();
    if f.contains("(admincount=1)") {
        out.push(HighValue::AdminCount);
    }
    if f.contains("(serviceprincipalname=") {
        out.push(HighValue::ServicePrincipalName);
    }
    let groups = [
        "domain admins",
        "enterprise admins",
        "schema admins",
        "cn=administrators",
    ];
    if groups.iter().any(|g| f.contains(g) || b.contains(g)) {
        out.push(HighValue::PrivilegedGroup);
    }
    if f.contains("krbtgt") || b.contains("cn=krbtgt") {
        out.push(HighValue::Krbtgt);
    }
    if attributes.iter().any(|a| {
        a.eq_ignore_ascii_case("msDS-AllowedToDelegateTo")
            || a.eq_ignore_ascii_case("msDS-AllowedToActOnBehalfOfOtherIdentity")
    }) || f.contains("msds-allowedtodelegateto")
        || f.contains("msds-allowedtoactonbehalfofotheridentity")
    {
        out.push(HighValue::Delegation);
    }
    // (userAccountControl:1.2.840.113556.1.4.803:=N) and the OR rule ...804.
    for rule in [":1.2.840.113556.1.4.803:=", ":1.2.840.113556.1.4.804:="] {
        let mut rest = f.as_str();
        while let Some(at) = rest.find(rule) {
            let before = rest.get(..at).unwrap_or("");
            let after = rest.get(at + rule.len()..).unwrap_or("");
            rest = after;
            if !before.ends_with("useraccountcontrol") {
                continue;
            }
            let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
            let Ok(bits) = digits.parse::<u64>() else {
                continue;
            };
            if bits & UAC_NO_PREAUTH != 0 {
                out.push(HighValue::NoPreauth);
            }
            if bits & (UAC_TRUSTED_FOR_DELEGATION | UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0 {
                out.push(HighValue::Delegation);
            }
            if bits & UAC_SERVER_TRUST_ACCOUNT != 0 {
                out.push(HighValue::DomainControllers);
            }
        }
    }
    if [
        "(objectclass=trusteddomain)",
        "(objectcategory=trusteddomain)",
    ]
    .iter()
    .any(|t| f.contains(t))
    {
        out.push(HighValue::Trusts);
    }
    if ["(objectcategory=computer)", "(objectclass=computer)"]
        .iter()
        .any(|t| f.contains(t))
    {
        out.push(HighValue::Computers);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Reads every LDAPMessage in one direction's bytes. A buffer that does not
/// start with a SEQUENCE but with a 4-byte length is a SASL-wrapped
/// (signed or sealed) buffer: counted and skipped.
pub fn parse_messages(data: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut rest = data;
    while !rest.is_empty() && out.messages.len() < MAX_MESSAGES {
        if rest.first() == Some(&0x30) {
            match ber::read_tlv(rest) {
                Ok((t, after)) => {
                    rest = after;
                    match parse_message(&t) {
                        Ok(m) => out.messages.push(m),
                        Err(e) => {
                            out.error = Some(e);
                            break;
                        }
                    }
                }
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        } else {
            let Some(h) = rest.get(..4) else {
                out.error = Some(ParseError::Truncated("ldap sasl buffer length"));
                break;
            };
            let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
            if len == 0 || len > 16 * 1024 * 1024 {
                out.error = Some(ParseError::Malformed("not an ldap message"));
                break;
            }
            match rest.get(4..4 + len) {
                Some(_) => {
                    out.wrapped = out.wrapped.saturating_add(1);
                    rest = rest.get(4 + len..).unwrap_or(&[]);
                }
                None => {
                    out.error = Some(ParseError::Truncated("ldap sasl buffer"));
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 128 {
            v.push(body.len() as u8);
        } else {
            v.push(0x82);
            v.extend((body.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(body);
        v
    }

    fn search(filter: &[u8], attrs: &[&str]) -> Vec<u8> {
        let attrs: Vec<u8> = attrs.iter().flat_map(|a| tlv(0x04, a.as_bytes())).collect();
        let op = tlv(
            0x63,
            &[
                tlv(0x04, b"DC=corp,DC=local"),
                tlv(0x0a, &[2]),
                tlv(0x0a, &[0]),
                tlv(0x02, &[0]),
                tlv(0x02, &[0]),
                tlv(0x01, &[0]),
                filter.to_vec(),
                tlv(0x30, &attrs),
            ]
            .concat(),
        );
        tlv(0x30, &[tlv(0x02, &[2]), op].concat())
    }

    #[test]
    fn kerberoast_search_is_flagged() {
        // (&(objectCategory=user)(servicePrincipalName=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))
        let eq = tlv(
            0xa3,
            &[tlv(0x04, b"objectCategory"), tlv(0x04, b"user")].concat(),
        );
        let present = tlv(0x87, b"servicePrincipalName");
        let ext = tlv(
            0xa9,
            &[
                tlv(0x81, b"1.2.840.113556.1.4.803"),
                tlv(0x82, b"userAccountControl"),
                tlv(0x83, b"4194304"),
            ]
            .concat(),
        );
        let filter = tlv(0xa0, &[eq, present, tlv(0xa2, &ext)].concat());
        let p = parse_messages(&search(
            &filter,
            &["sAMAccountName", "servicePrincipalName"],
        ));
        assert_eq!(p.error, None);
        let Operation::Search(s) = &p.messages[0].op else {
            panic!("not a search")
        };
        assert_eq!(
            s.filter,
            "(&(objectCategory=user)(servicePrincipalName=*)(!(userAccountControl:1.2.840.113556.1.4.803:=4194304)))"
        );
        assert_eq!(s.base, "DC=corp,DC=local");
        assert_eq!(
            s.high_value,
            vec![HighValue::ServicePrincipalName, HighValue::NoPreauth]
        );
        assert_eq!(p.messages[0].opcode.name(), Some("search"));
    }

    #[test]
    fn binds_results_wrapped_buffers_and_truncation() {
        let bind = tlv(
            0x30,
            &[
                tlv(0x02, &[1]),
                tlv(
                    0x60,
                    &[
                        tlv(0x02, &[3]),
                        tlv(0x04, b""),
                        tlv(0xa3, &tlv(0x04, b"GSS-SPNEGO")),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        );
        let result = tlv(
            0x30,
            &[
                tlv(0x02, &[1]),
                tlv(
                    0x61,
                    &[tlv(0x0a, &[49]), tlv(0x04, b""), tlv(0x04, b"bad")].concat(),
                ),
            ]
            .concat(),
        );
        let mut data = bind.clone();
        data.extend([0, 0, 0, 3, 9, 9, 9]);
        data.extend(&result);
        let p = parse_messages(&data);
        assert_eq!(p.error, None);
        assert_eq!(p.wrapped, 1);
        assert!(
            matches!(&p.messages[0].op, Operation::Bind { method: BindMethod::Sasl(m), .. } if m == "GSS-SPNEGO")
        );
        let Operation::Result(r) = &p.messages[1].op else {
            panic!("not a result")
        };
        assert_eq!(r.code.name(), Some("invalid_credentials"));
        for cut in 1..bind.len() {
            assert!(parse_messages(&bind[..cut]).error.is_some());
        }
        // A filter nested past the limit is refused, not recursed into.
        let mut deep = tlv(0x87, b"cn");
        for _ in 0..40 {
            deep = tlv(0xa2, &deep);
        }
        assert!(parse_messages(&search(&deep, &[])).error.is_some());
    }
}
