//! RDP connection setup (MS-RDPBCGR): a stateless parser in the capture
//! source (stage 2) over the first bytes of each direction of a TCP 3389
//! connection. From the client: the X.224 Connection Request with its
//! `Cookie: mstshash=USER` and requested protocols (RDP_NEG_REQ), and, when
//! the session uses standard RDP security (nothing wrapped in TLS), the MCS
//! Connect Initial's client core data (client name, build, keyboard). From
//! the server: the Connection Confirm's selected protocol (RDP_NEG_RSP) or
//! failure code (RDP_NEG_FAILURE).

pub use crate::analyzer::ber::ParseError;

/// RDP security protocol flags (requested: a set of bits; selected: one value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Protocols(pub u32);

impl Protocols {
    /// Standard RDP security (no bits).
    pub const RDP: u32 = 0;
    /// TLS.
    pub const SSL: u32 = 1;
    /// CredSSP (NLA).
    pub const HYBRID: u32 = 2;
    /// RDSTLS.
    pub const RDSTLS: u32 = 4;
    /// CredSSP with early user authorization.
    pub const HYBRID_EX: u32 = 8;
    /// RDS AAD.
    pub const RDSAAD: u32 = 0x10;

    /// The name Zeek logs as `security_protocol` for a selected protocol.
    pub fn selected_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "RDP",
            1 => "SSL",
            2 => "HYBRID",
            4 => "RDSTLS",
            8 => "HYBRID_EX",
            0x10 => "RDSAAD",
            _ => return None,
        })
    }
}

/// An RDP_NEG_FAILURE code; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureCode(pub u32);

impl FailureCode {
    /// The MS-RDPBCGR name of the code.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => return None,
        })
    }
}

/// The client's X.224 Connection Request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionRequest {
    /// The user name of `Cookie: mstshash=USER`.
    pub cookie: Option<String>,
    /// A load-balancer routing token (`Cookie: msts=...`) as sent.
    pub routing_token: Option<String>,
    /// Requested protocols (RDP_NEG_REQ), if the request carried one.
    pub requested: Option<Protocols>,
}

/// The server's X.224 Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionConfirm {
    /// RDP_NEG_RSP with the selected protocol.
    Selected(Protocols),
    /// RDP_NEG_FAILURE with its code.
    Failure(FailureCode),
    /// A confirm without negotiation data (standard RDP security).
    Plain,
}

/// Client core data (TS_UD_CS_CORE) from the MCS Connect Initial.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientCore {
    /// RDP version field.
    pub version: u32,
    /// Desktop width.
    pub desktop_width: u16,
    /// Desktop height.
    pub desktop_height: u16,
    /// Requested colour depth field (`colorDepth`).
    pub color_depth: u16,
    /// Keyboard layout (a Windows LCID).
    pub keyboard_layout: u32,
    /// Client build number.
    pub client_build: u32,
    /// Client computer name.
    pub client_name: String,
}

/// TPKT header (version 3) at the front of `data`: returns the TPDU and the rest.
pub fn parse_tpkt(data: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let h = data.get(..4).ok_or(ParseError::Truncated("tpkt header"))?;
    if h[0] != 3 {
        return Err(ParseError::Malformed("tpkt version"));
    }
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 4 {
        return Err(ParseError::Malformed("tpkt length"));
    }
    let body = data.get(4..len).ok_or(ParseError::Truncated("tpkt body"))?;
    Ok((body, data.get(len..).unwrap_or(&[])))
}

/// The X.224 code and variable part of a connection TPDU.
fn x224(tpdu: &[u8], code: u8) -> Result<&[u8], ParseError> {
    let li = usize::from(*tpdu.first().ok_or(ParseError::Truncated("x224 header"))?);
    let head = tpdu
        .get(1..=li)
        .ok_or(ParseError::Truncated("x224 header"))?;
    if li < 6 || head.first().map(|c| c & 0xf0) != Some(code) {
        return Err(ParseError::Malformed("x224 code"));
    }
    Ok(head.get(6..).unwrap_or(&[]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Parses the client's first TPKT: an X.224 Connection Request.
pub fn parse_connection_request(data: &[u8]) -> Result<ConnectionRequest, ParseError> {
    let (tpdu, _) = parse_tpkt(data)?;
    let mut var = x224(tpdu, 0xe0)?;
    let mut req = ConnectionRequest::default();
    if var.starts_with(b"Cookie: ") {
        let end = memchr::memmem::find(var, b"\r\n")
            .ok_or(ParseError::Malformed("rdp cookie without CRLF"))?;
        let line = String::from_utf8_lossy(var.get(8..end).unwrap_or(&[])).into_owned();
        match line.strip_prefix("mstshash=") {
            Some(user) => req.cookie = Some(user.to_string()),
            None => req.routing_token = Some(line),
        }
        var = var.get(end + 2..).unwrap_or(&[]);
    }
    if var.first() == Some(&1) {
        if le16(var, 2) != Some(8) {
            return Err(ParseError::Malformed("rdp neg req length"));
        }
        let p = le32(var, 4).ok_or(ParseError::Truncated("rdp neg req"))?;
        req.requested = Some(Protocols(p));
    }
    Ok(req)
}

/// Parses the server's first TPKT: an X.224 Connection Confirm.
pub fn parse_connection_confirm(data: &[u8]) -> Result<ConnectionConfirm, ParseError> {
    let (tpdu, _) = parse_tpkt(data)?;
    let var = x224(tpdu, 0xd0)?;
    match var.first() {
        None => Ok(ConnectionConfirm::Plain),
        Some(2) | Some(3) => {
            if le16(var, 2) != Some(8) {
                return Err(ParseError::Malformed("rdp neg rsp length"));
            }
            let v = le32(var, 4).ok_or(ParseError::Truncated("rdp neg rsp"))?;
            Ok(if var.first() == Some(&2) {
                ConnectionConfirm::Selected(Protocols(v))
            } else {
                ConnectionConfirm::Failure(FailureCode(v))
            })
        }
        Some(_) => Err(ParseError::Malformed("rdp neg type")),
    }
}

/// Finds the client core data in the client's bytes after the Connection
/// Request (the MCS Connect Initial's GCC user data, after the H.221 key
/// `Duca`). Only present in clear under standard RDP security.
pub fn parse_client_core(data: &[u8]) -> Result<ClientCore, ParseError> {
    // Skip the connection request's TPKT, then read the next one.
    let (_, rest) = parse_tpkt(data)?;
    let (tpdu, _) = parse_tpkt(rest)?;
    if tpdu.get(..3) != Some(&[0x02, 0xf0, 0x80]) {
        return Err(ParseError::Malformed("x224 data header"));
    }
    let key =
        memchr::memmem::find(tpdu, b"Duca").ok_or(ParseError::Malformed("no gcc user data"))?;
    let mut at = key + 4;
    // PER length: one byte, or two with the top bit set.
    let l0 = *tpdu.get(at).ok_or(ParseError::Truncated("gcc length"))?;
    at += if l0 & 0x80 != 0 { 2 } else { 1 };
    let blocks = tpdu
        .get(at..)
        .ok_or(ParseError::Truncated("gcc user data"))?;
    let mut pos = 0usize;
    while let (Some(kind), Some(len)) = (le16(blocks, pos), le16(blocks, pos + 2)) {
        let len = usize::from(len);
        if len < 4 {
            return Err(ParseError::Malformed("gcc block length"));
        }
        if kind == 0xc001 {
            let b = blocks
                .get(pos..pos + len)
                .ok_or(ParseError::Truncated("client core data"))?;
            let name_bytes = b.get(24..56).ok_or(ParseError::Truncated("client name"))?;
            let units: Vec<u16> = name_bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|u| *u != 0)
                .collect();
            return Ok(ClientCore {
                version: le32(b, 4).unwrap_or(0),
                desktop_width: le16(b, 8).unwrap_or(0),
                desktop_height: le16(b, 10).unwrap_or(0),
                color_depth: le16(b, 12).unwrap_or(0),
                keyboard_layout: le32(b, 16).unwrap_or(0),
                client_build: le32(b, 20).unwrap_or(0),
                client_name: String::from_utf16_lossy(&units),
            });
        }
        pos = pos
            .checked_add(len)
            .ok_or(ParseError::Malformed("gcc block length"))?;
    }
    Err(ParseError::Malformed("no client core data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpkt(body: &[u8]) -> Vec<u8> {
        let mut v = vec![3, 0];
        v.extend(((body.len() + 4) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn connection_request_cookie_and_protocols() {
        let mut x = vec![0u8, 0xe0, 0, 0, 0, 0, 0];
        x.extend_from_slice(b"Cookie: mstshash=administrator\r\n");
        x.extend_from_slice(&[1, 0, 8, 0, 3, 0, 0, 0]);
        x[0] = (x.len() - 1) as u8;
        let req = parse_connection_request(&tpkt(&x)).unwrap();
        assert_eq!(req.cookie.as_deref(), Some("administrator"));
        assert_eq!(req.requested, Some(Protocols(3)));
        for cut in 0..tpkt(&x).len() {
            assert!(parse_connection_request(&tpkt(&x)[..cut]).is_err());
        }
    }

    #[test]
    fn confirm_selected_and_failure() {
        let ok = tpkt(&[14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0]);
        assert_eq!(
            parse_connection_confirm(&ok).unwrap(),
            ConnectionConfirm::Selected(Protocols(2))
        );
        assert_eq!(Protocols(2).selected_name(), Some("HYBRID"));
        let fail = tpkt(&[14, 0xd0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0]);
        let ConnectionConfirm::Failure(code) = parse_connection_confirm(&fail).unwrap() else {
            panic!("not a failure")
        };
        assert_eq!(code.name(), Some("HYBRID_REQUIRED_BY_SERVER"));
        assert!(parse_connection_confirm(&tpkt(&[6, 0xd0, 0, 0, 0, 0, 0])).is_ok());
        assert!(parse_connection_confirm(&[4, 0, 0, 7]).is_err());
    }

    #[test]
    fn client_core_name() {
        let cr = tpkt(&[6, 0xe0, 0, 0, 0, 0, 0]);
        let mut core = vec![0x01, 0xc0, 0, 0];
        core.extend(0x0008_0004u32.to_le_bytes());
        core.extend(1024u16.to_le_bytes());
        core.extend(768u16.to_le_bytes());
        core.extend(0xca01u16.to_le_bytes());
        core.extend(0xaa03u16.to_le_bytes());
        core.extend(0x409u32.to_le_bytes());
        core.extend(2600u32.to_le_bytes());
        let mut name = [0u8; 32];
        for (i, c) in "WS05".encode_utf16().enumerate() {
            name[i * 2..i * 2 + 2].copy_from_slice(&c.to_le_bytes());
        }
        core.extend(name);
        let len = core.len() as u16;
        core[2..4].copy_from_slice(&len.to_le_bytes());
        let mut mcs = vec![0x02, 0xf0, 0x80, 0x7f, 0x65];
        mcs.extend_from_slice(b"....Duca");
        mcs.push(core.len() as u8);
        mcs.extend(core);
        let mut data = cr;
        data.extend(tpkt(&mcs));
        let c = parse_client_core(&data).unwrap();
        assert_eq!(
            (c.client_name.as_str(), c.client_build, c.desktop_width),
            ("WS05", 2600, 1024)
        );
        assert_eq!(c.keyboard_layout, 0x409);
    }
}
