//! HTTP/1.x messages, for web beacons and WinRM (5985/5986): a parser in the
//! capture source (stage 2) over the in-order bytes of one direction of a TCP
//! connection. It reads request and status lines and the headers analysts
//! need (host, user agent, authorization with its decoded token), steps over
//! bodies by `Content-Length` or chunked coding, and pairs requests with
//! their responses ([`pair`]) as Zeek's `http.log` does. Authorization tokens
//! are kept as raw bytes so the NTLM parser can read the identity inside.

pub use crate::analyzer::ber::ParseError;

/// Most bytes a request or status line plus headers may take.
pub const MAX_HEAD: usize = 64 * 1024;

/// Most messages read from one direction of one connection.
pub const MAX_MESSAGES: usize = 10_000;

/// An HTTP authentication scheme (`Authorization`/`WWW-Authenticate`); the
/// name is kept as sent when it is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// SPNEGO (`Negotiate`): Kerberos or NTLM inside.
    Negotiate,
    /// `Kerberos` (WinRM's explicit Kerberos).
    Kerberos,
    /// `NTLM`.
    Ntlm,
    /// `Basic` (user and password in base64).
    Basic,
    /// `Digest`.
    Digest,
    /// `Bearer`.
    Bearer,
    /// Any other scheme, as written.
    Other(String),
}

impl AuthScheme {
    fn from_name(name: &str) -> AuthScheme {
        match name.to_ascii_lowercase().as_str() {
            "negotiate" => AuthScheme::Negotiate,
            "kerberos" => AuthScheme::Kerberos,
            "ntlm" => AuthScheme::Ntlm,
            "basic" => AuthScheme::Basic,
            "digest" => AuthScheme::Digest,
            "bearer" => AuthScheme::Bearer,
            _ => AuthScheme::Other(name.to_string()),
        }
    }

    /// The scheme's name as conventionally written.
    pub fn as_str(&self) -> &str {
        match self {
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Kerberos => "Kerberos",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Basic => "Basic",
            AuthScheme::Digest => "Digest",
            AuthScheme::Bearer => "Bearer",
            AuthScheme::Other(s) => s,
        }
    }
}

/// What a Negotiate/NTLM/Kerberos token carries, judged from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMech {
    /// An NTLMSSP message (raw, or wrapped in SPNEGO).
    Ntlm,
    /// A Kerberos AP-REQ/AP-REP (raw, or wrapped in SPNEGO).
    Kerberos,
    /// Something else, or nothing.
    Unknown,
}

/// One `Authorization` (or `WWW-Authenticate`) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The scheme.
    pub scheme: AuthScheme,
    /// The credentials after the scheme, base64-decoded when they are base64
    /// (Negotiate, NTLM, Kerberos, Basic); empty when absent or not base64.
    pub token: Vec<u8>,
}

const NTLMSSP: &[u8] = b"NTLMSSP\0";
/// DER of the Kerberos v5 OIDs (1.2.840.113554.1.2.2 and Microsoft's 1.2.840.48018.1.2.2).
const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const MS_KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];

impl Authorization {
    /// The NTLMSSP message inside the token, from its signature on, for the
    /// NTLM parser; `None` when the token carries none.
    pub fn ntlm_message(&self) -> Option<&[u8]> {
        let at = memchr::memmem::find(&self.token, NTLMSSP)?;
        self.token.get(at..)
    }

    /// Which mechanism the token carries.
    pub fn mechanism(&self) -> TokenMech {
        if self.ntlm_message().is_some() {
            TokenMech::Ntlm
        } else if memchr::memmem::find(&self.token, KRB5_OID).is_some()
            || memchr::memmem::find(&self.token, MS_KRB5_OID).is_some()
            // A raw AP-REQ ([APPLICATION 14]) as WinRM's `Kerberos` scheme sends.
            || (self.scheme == AuthScheme::Kerberos && self.token.first() == Some(&0x6e))
        {
            TokenMech::Kerberos
        } else {
            TokenMech::Unknown
        }
    }

    /// The user name of a `Basic` credential (the password is not kept).
    pub fn basic_user(&self) -> Option<String> {
        if self.scheme != AuthScheme::Basic {
            return None;
        }
        let colon = self.token.iter().position(|b| *b == b':')?;
        Some(String::from_utf8_lossy(self.token.get(..colon)?).into_owned())
    }
}

/// A request line and the headers the analyzers use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Method (`GET`, `POST`, ...).
    pub method: String,
    /// Request target as sent.
    pub uri: String,
    /// Version after `HTTP/` (`1.1`).
    pub version: String,
    /// `Host`.
    pub host: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Referer`.
    pub referrer: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Authorization`.
    pub authorization: Option<Authorization>,
    /// Body bytes seen after the head (to the end of the body or of the data).
    pub body_len: u64,
}

/// A status line and the headers the analyzers use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Version after `HTTP/`.
    pub version: String,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// `Server`.
    pub server: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// Each `WWW-Authenticate` value (challenges, NTLM type 2 messages).
    pub authenticate: Vec<Authorization>,
    /// Body bytes seen after the head.
    pub body_len: u64,
}

/// Messages read from one direction, and why reading stopped early, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<T> {
    /// Messages in order.
    pub messages: Vec<T>,
    /// The error that ended reading before the end of the bytes.
    pub error: Option<ParseError>,
}

/// Whether `data` starts like an HTTP request (a known method and a space).
pub fn looks_like_request(data: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"PATCH ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| data.starts_with(m))
}

struct Head<'a> {
    start: [&'a str; 3],
    headers: Vec<(&'a str, &'a str)>,
    len: usize,
}

/// The text of the head (start line and headers) at the front of `data`,
/// with bytes that are not UTF-8 replaced, and its length in bytes.
fn head_text(data: &[u8]) -> Result<(std::borrow::Cow<'_, str>, usize), ParseError> {
    let window = data.get(..data.len().min(MAX_HEAD)).unwrap_or(data);
    let crlf = memchr::memmem::find(window, b"\n\r\n").map(|i| i + 3);
    let lf = memchr::memmem::find(window, b"\n\n").map(|i| i + 2);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(end) = end else {
        return Err(if data.len() >= MAX_HEAD {
            ParseError::Malformed("http head too long")
        } else {
            ParseError::Truncated("http head")
        });
    };
    Ok((
        String::from_utf8_lossy(window.get(..end).unwrap_or(&[])),
        end,
    ))
}

/// Splits a head's text into its start line's three parts and its headers.
fn split_head(text: &str, len: usize) -> Head<'_> {
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("");
    let mut parts = first.splitn(3, ' ');
    let start = [
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    ];
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim(), v.trim()));
        }
    }
    Head {
        start,
        headers,
        len,
    }
}

fn header<'a>(h: &Head<'a>, name: &str) -> Option<&'a str> {
    h.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Parses one `Authorization`-style value: a scheme, then credentials.
pub fn parse_authorization(value: &str) -> Authorization {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = AuthScheme::from_name(scheme);
    let token = match scheme {
        AuthScheme::Negotiate | AuthScheme::Kerberos | AuthScheme::Ntlm | AuthScheme::Basic => {
            super::ntlm::base64_decode(rest.trim().as_bytes()).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Authorization { scheme, token }
}

enum BodyLen {
    Fixed(u64),
    Chunked,
    ToEnd,
}

fn body_kind(h: &Head<'_>, default_to_end: bool) -> BodyLen {
    if header(h, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return BodyLen::Chunked;
    }
    match header(h, "content-length").and_then(|v| v.parse::<u64>().ok()) {
        Some(n) => BodyLen::Fixed(n),
        None if default_to_end => BodyLen::ToEnd,
        None => BodyLen::Fixed(0),
    }
}

/// Steps over a body; returns (payload bytes, bytes consumed).
fn skip_body(data: &[u8], kind: BodyLen) -> (u64, usize) {
    match kind {
        BodyLen::Fixed(n) => {
            let take = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
            (take as u64, take)
        }
        BodyLen::ToEnd => (data.len() as u64, data.len()),
        BodyLen::Chunked => {
            let mut at = 0usize;
            let mut total = 0u64;
            while let Some(rest) = data.get(at..) {
                let Some(nl) = memchr::memchr(b'\n', rest) else {
                    return (total, data.len());
                };
                let line = std::str::from_utf8(rest.get(..nl).unwrap_or(&[])).unwrap_or("");
                let size_text = line.trim().split(';').next().unwrap_or("").trim();
                let Ok(size) = u64::from_str_radix(size_text, 16) else {
                    return (total, data.len());
                };
                at = at.saturating_add(nl + 1);
                if size == 0 {
                    // Trailers end with an empty line.
                    let rest = data.get(at..).unwrap_or(&[]);
                    let end = if rest.starts_with(b"\r\n") {
                        2
                    } else if rest.starts_with(b"\n") {
                        1
                    } else {
                        memchr::memmem::find(rest, b"\r\n\r\n").map_or(rest.len(), |i| i + 4)
                    };
                    return (total, at.saturating_add(end).min(data.len()));
                }
                let avail = data.len().saturating_sub(at) as u64;
                let take = size.min(avail);
                total = total.saturating_add(take);
                at = at.saturating_add(take as usize);
                // The CRLF after the chunk.
                if data.get(at..at.saturating_add(2)) == Some(b"\r\n") {
                    at += 2;
                } else if data.get(at) == Some(&b'\n') {
                    at += 1;
                }
                if at >= data.len() {
                    return (total, data.len());
                }
            }
            (total, data.len())
        }
    }
}

fn version_of(s: &str) -> Option<&str> {
    s.strip_prefix("HTTP/")
}

/// Reads every request in the client's bytes of one connection.
pub fn parse_requests(data: &[u8]) -> Parsed<Request> {
    let mut out = Parsed::default();
    let mut at = 0usize;
    while at < data.len() && out.messages.len() < MAX_MESSAGES {
        let rest = data.get(at..).unwrap_or(&[]);
        let (text, len) = match head_text(rest) {
            Ok(t) => t,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        };
        let h = split_head(&text, len);
        let [method, uri, version] = h.start;
        let Some(version) = version_of(version.trim()) else {
            out.error = Some(ParseError::Malformed("http request line"));
            break;
        };
        let body = rest.get(h.len..).unwrap_or(&[]);
        let (body_len, used) = skip_body(body, body_kind(&h, false));
        out.messages.push(Request {
            method: method.to_string(),
            uri: uri.to_string(),
            version: version.to_string(),
            host: header(&h, "host").map(str::to_string),
            user_agent: header(&h, "user-agent").map(str::to_string),
            referrer: header(&h, "referer").map(str::to_string),
            origin: header(&h, "origin").map(str::to_string),
            content_type: header(&h, "content-type").map(str::to_string),
            authorization: header(&h, "authorization").map(parse_authorization),
            body_len,
        });
        at = at.saturating_add(h.len).saturating_add(used);
    }
    out
}

/// Reads every response in the server's bytes of one connection. `heads`
/// says, per response in order, whether it answers a `HEAD` request (no body).
pub fn parse_responses(data: &[u8], heads: &[bool]) -> Parsed<Response> {
    let mut out = Parsed::default();
    let mut at = 0usize;
    let mut final_index = 0usize;
    while at < data.len() && out.messages.len() < MAX_MESSAGES {
        let rest = data.get(at..).unwrap_or(&[]);
        let (text, len) = match head_text(rest) {
            Ok(t) => t,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        };
        let h = split_head(&text, len);
        let [version, status, reason] = h.start;
        let (Some(version), Ok(status)) = (version_of(version), status.parse::<u16>()) else {
            out.error = Some(ParseError::Malformed("http status line"));
            break;
        };
        let informational = (100..200).contains(&status);
        let no_body = informational
            || status == 204
            || status == 304
            || heads.get(final_index).copied().unwrap_or(false);
        let body = rest.get(h.len..).unwrap_or(&[]);
        let (body_len, used) = if no_body {
            (0, 0)
        } else {
            skip_body(body, body_kind(&h, true))
        };
        if !informational {
            final_index += 1;
        }
        out.messages.push(Response {
            version: version.to_string(),
            status,
            reason: reason.to_string(),
            server: header(&h, "server").map(str::to_string),
            content_type: header(&h, "content-type").map(str::to_string),
            authenticate: h
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
                .map(|(_, v)| parse_authorization(v))
                .collect(),
            body_len,
        });
        at = at.saturating_add(h.len).saturating_add(used);
    }
    out
}

/// One request and what answered it, as a line of Zeek's `http.log`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transaction {
    /// Position in the connection, from 1 (Zeek's `trans_depth`).
    pub depth: u32,
    /// The request, if seen.
    pub request: Option<Request>,
    /// The last informational (1xx) response before the final one.
    pub info: Option<Response>,
    /// The final response, if seen.
    pub response: Option<Response>,
}

/// Pairs requests with responses in order; 1xx responses are attached as
/// `info` to the transaction they precede. Extra responses (a capture that
/// started mid-connection) make transactions without a request.
pub fn pair(requests: Vec<Request>, responses: Vec<Response>) -> Vec<Transaction> {
    let mut out: Vec<Transaction> = Vec::new();
    let mut reqs = requests.into_iter();
    let mut info = None;
    let mut finals = Vec::new();
    for r in responses {
        if (100..200).contains(&r.status) {
            info = Some(r);
        } else {
            finals.push((info.take(), r));
        }
    }
    for (i, (info, resp)) in finals.into_iter().enumerate() {
        out.push(Transaction {
            depth: u32::try_from(i + 1).unwrap_or(u32::MAX),
            request: reqs.next(),
            info,
            response: Some(resp),
        });
    }
    for req in reqs {
        let depth = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
        out.push(Transaction {
            depth,
            request: Some(req),
            info: info.take(),
            response: None,
        });
    }
    out
}

/// Whether the request is a `HEAD` (its response has no body), per request.
pub fn head_flags(requests: &[Request]) -> Vec<bool> {
    requests.iter().map(|r| r.method == "HEAD").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winrm_negotiate_request_exposes_the_ntlm_token() {
        // "NTLMSSP\0" + type 1, base64.
        let req = b"POST /wsman HTTP/1.1\r\nConnection: Keep-Alive\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nAuthorization: Negotiate TlRMTVNTUAABAAAAB4IIog==\r\nUser-Agent: Microsoft WinRM Client\r\nContent-Length: 0\r\nHost: ws6:5985\r\n\r\n";
        let p = parse_requests(req);
        assert_eq!(p.error, None);
        let r = &p.messages[0];
        assert_eq!(
            (r.method.as_str(), r.uri.as_str(), r.version.as_str()),
            ("POST", "/wsman", "1.1")
        );
        assert_eq!(r.host.as_deref(), Some("ws6:5985"));
        assert_eq!(r.user_agent.as_deref(), Some("Microsoft WinRM Client"));
        let auth = r.authorization.as_ref().unwrap();
        assert_eq!(auth.scheme, AuthScheme::Negotiate);
        assert_eq!(auth.mechanism(), TokenMech::Ntlm);
        assert_eq!(auth.ntlm_message().unwrap()[8], 1);
    }

    #[test]
    fn bodies_are_skipped_and_pairs_line_up() {
        let reqs = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\n\n";
        let r = parse_requests(reqs);
        assert_eq!(r.error, None);
        assert_eq!(
            r.messages.iter().map(|m| m.body_len).collect::<Vec<_>>(),
            [0, 3, 0]
        );
        let resps = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        let s = parse_responses(resps, &head_flags(&r.messages));
        assert_eq!(s.error, None);
        assert_eq!(
            s.messages.iter().map(|m| m.status).collect::<Vec<_>>(),
            [200, 100, 401, 200]
        );
        assert_eq!(s.messages[0].body_len, 5);
        assert_eq!(s.messages[2].authenticate.len(), 2);
        let t = pair(r.messages, s.messages);
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].info.as_ref().unwrap().status, 100);
        assert_eq!(t[2].request.as_ref().unwrap().method, "HEAD");
        assert_eq!(t[2].response.as_ref().unwrap().body_len, 0);
    }

    #[test]
    fn header_bytes_outside_utf8_are_replaced_not_fatal() {
        let latin1 = parse_requests(b"GET / HTTP/1.1\r\nUser-Agent: caf\xe9\r\n\r\n");
        assert_eq!(latin1.error, None);
        assert_eq!(
            latin1.messages[0].user_agent.as_deref(),
            Some("caf\u{fffd}")
        );
    }

    #[test]
    fn basic_user_and_bad_input() {
        let a = parse_authorization("Basic YWxpY2U6c2VjcmV0");
        assert_eq!(a.basic_user().as_deref(), Some("alice"));
        assert_eq!(
            parse_requests(b"GET / HTTP/1.1\r\nHost: x").error,
            Some(ParseError::Truncated("http head"))
        );
        assert!(
            parse_requests(b"\x16\x03\x01\x00\x05hello\r\n\r\n")
                .error
                .is_some()
        );
        assert_eq!(super::super::ntlm::base64_decode(b"a$"), None);
        let big = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(
            parse_requests(&big).error,
            Some(ParseError::Malformed("http head too long"))
        );
    }
}
