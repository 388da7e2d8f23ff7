//! TLS handshakes, in the capture source (stage 2): over the in-order bytes
//! of one direction of a TCP connection, the records up to the change of
//! cipher spec and the handshake messages in them. The client's hello gives
//! the server name (SNI), offered versions, ciphers, groups, ALPN and the
//! JA3 and JA4 fingerprints; the server's hello the chosen version and
//! cipher (and JA3S); its key exchange the curve. Code points are open
//! newtypes. The Zeek `ssl.log` record is built in `report::zeek_app::ssl`.

pub use crate::analyzer::ber::ParseError;
use md5::Md5;
use sha2::{Digest, Sha256};

/// Most handshake bytes buffered per direction.
pub const MAX_HANDSHAKE: usize = 256 * 1024;

/// A protocol version code point (`0x0303` is TLS 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TlsVersion(pub u16);

impl TlsVersion {
    /// Zeek's name for the version (`TLSv12`), if known.
    pub fn zeek_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0002 => "SSLv2",
            0x0300 => "SSLv3",
            0x0301 => "TLSv10",
            0x0302 => "TLSv11",
            0x0303 => "TLSv12",
            0x0304 => "TLSv13",
            0xfeff => "DTLSv10",
            0xfefd => "DTLSv12",
            0xfefc => "DTLSv13",
            _ => return None,
        })
    }

    /// The two characters JA4 gives the version.
    fn ja4(self) -> &'static str {
        match self.0 {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        }
    }
}

/// A cipher suite code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// The IANA name (as Zeek logs it), or `unknown-N`.
    pub fn name(self) -> String {
        let n = match self.0 {
            0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
            0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
            0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
            0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
            0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
            0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
            0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
            0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
            0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
            0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
            0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
            0x1301 => "TLS_AES_128_GCM_SHA256",
            0x1302 => "TLS_AES_256_GCM_SHA384",
            0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
            0x5600 => "TLS_FALLBACK_SCSV",
            0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
            0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            n => return format!("unknown-{n}"),
        };
        n.to_string()
    }
}

/// A named group (elliptic curve) code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NamedGroup(pub u16);

impl NamedGroup {
    /// The name Zeek logs as `curve`, if known.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            29 => "x25519",
            30 => "x448",
            256 => "ffdhe2048",
            257 => "ffdhe3072",
            0x11ec => "X25519MLKEM768",
            _ => return None,
        })
    }
}

/// GREASE values (RFC 8701) are left out of fingerprints.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// A ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version`.
    pub version: TlsVersion,
    /// Offered cipher suites, in order.
    pub ciphers: Vec<CipherSuite>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// Server name (SNI host name).
    pub server_name: Option<String>,
    /// Supported groups, in order.
    pub groups: Vec<NamedGroup>,
    /// EC point formats, in order.
    pub point_formats: Vec<u8>,
    /// ALPN protocols, in order.
    pub alpn: Vec<String>,
    /// `supported_versions`, in order.
    pub supported_versions: Vec<TlsVersion>,
    /// `signature_algorithms`, in order.
    pub signature_algorithms: Vec<u16>,
    /// The legacy session id offered.
    pub session_id: Vec<u8>,
}

/// A ServerHello.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: TlsVersion,
    /// The chosen cipher suite.
    pub cipher: CipherSuite,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// The version from `supported_versions` (TLS 1.3), if present.
    pub selected_version: Option<TlsVersion>,
    /// The chosen ALPN protocol, if any.
    pub alpn: Option<String>,
    /// The key share group (TLS 1.3), if any.
    pub key_share: Option<NamedGroup>,
    /// The legacy session id (equal to the client's offer on resumption).
    pub session_id: Vec<u8>,
}

impl ServerHello {
    /// The negotiated version: `supported_versions` over `legacy_version`.
    pub fn negotiated_version(&self) -> TlsVersion {
        self.selected_version.unwrap_or(self.version)
    }
}

/// A handshake message type; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    /// The letter Zeek's `ssl_history` gives this message (upper case when
    /// the client sent it).
    pub fn history_letter(self, from_client: bool) -> char {
        let c = match self.0 {
            0 => 'h',
            1 => 'c',
            2 => 's',
            3 => 'v',
            4 => 't',
            8 => 'o',
            11 => 'x',
            12 => 'k',
            13 => 'r',
            14 => 'n',
            15 => 'y',
            16 => 'g',
            20 => 'f',
            21 => 'w',
            22 => 'u',
            23 => 'a',
            24 => 'p',
            _ => 'z',
        };
        if from_client {
            c.to_ascii_uppercase()
        } else {
            c
        }
    }
}

/// What one direction's bytes held before encryption took over.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Flight {
    /// Handshake message types, in order.
    pub messages: Vec<HandshakeType>,
    /// The ClientHello, if this is the client's side.
    pub client_hello: Option<ClientHello>,
    /// The ServerHello, if this is the server's side.
    pub server_hello: Option<ServerHello>,
    /// The curve named in a ServerKeyExchange.
    pub ske_curve: Option<NamedGroup>,
    /// Whether a ChangeCipherSpec was seen.
    pub change_cipher_spec: bool,
    /// Whether application data records were seen.
    pub application_data: bool,
    /// Alert descriptions seen in clear.
    pub alerts: Vec<u8>,
    /// Why reading stopped early, if it did.
    pub error: Option<ParseError>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(ParseError::Malformed("tls length"))?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or(ParseError::Malformed("tls field past its end"))?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn vec8(&mut self) -> Result<&'a [u8], ParseError> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Result<&'a [u8], ParseError> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
    fn done(&self) -> bool {
        self.at >= self.b.len()
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, ParseError> {
    let mut r = Reader::new(body);
    let mut h = ClientHello {
        version: TlsVersion(r.u16()?),
        ..Default::default()
    };
    r.take(32)?;
    h.session_id = r.vec8()?.to_vec();
    h.ciphers = u16s(r.vec16()?).into_iter().map(CipherSuite).collect();
    r.vec8()?;
    if r.done() {
        return Ok(h);
    }
    let mut ext = Reader::new(r.vec16()?);
    while !ext.done() {
        let kind = ext.u16()?;
        let data = ext.vec16()?;
        h.extensions.push(kind);
        let mut d = Reader::new(data);
        match kind {
            0 => {
                let mut list = Reader::new(d.vec16()?);
                while !list.done() {
                    let name_type = list.u8()?;
                    let name = list.vec16()?;
                    if name_type == 0 && h.server_name.is_none() {
                        h.server_name = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            10 => h.groups = u16s(d.vec16()?).into_iter().map(NamedGroup).collect(),
            11 => h.point_formats = d.vec8()?.to_vec(),
            13 => h.signature_algorithms = u16s(d.vec16()?),
            16 => {
                let mut list = Reader::new(d.vec16()?);
                while !list.done() {
                    h.alpn
                        .push(String::from_utf8_lossy(list.vec8()?).into_owned());
                }
            }
            43 => h.supported_versions = u16s(d.vec8()?).into_iter().map(TlsVersion).collect(),
            _ => {}
        }
    }
    Ok(h)
}

/// Parses a ServerHello body (after the 4-byte handshake header).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, ParseError> {
    let mut r = Reader::new(body);
    let mut h = ServerHello {
        version: TlsVersion(r.u16()?),
        ..Default::default()
    };
    r.take(32)?;
    h.session_id = r.vec8()?.to_vec();
    h.cipher = CipherSuite(r.u16()?);
    r.u8()?;
    if r.done() {
        return Ok(h);
    }
    let mut ext = Reader::new(r.vec16()?);
    while !ext.done() {
        let kind = ext.u16()?;
        let data = ext.vec16()?;
        h.extensions.push(kind);
        let mut d = Reader::new(data);
        match kind {
            16 => {
                let mut list = Reader::new(d.vec16()?);
                if !list.done() {
                    h.alpn = Some(String::from_utf8_lossy(list.vec8()?).into_owned());
                }
            }
            43 => h.selected_version = Some(TlsVersion(d.u16()?)),
            51 => h.key_share = Some(NamedGroup(d.u16()?)),
            _ => {}
        }
    }
    Ok(h)
}

/// Reads the records of one direction (client when `from_client`) until
/// encryption starts, collecting the handshake messages in them.
pub fn parse_flight(data: &[u8], from_client: bool) -> Flight {
    let mut f = Flight::default();
    let mut handshake: Vec<u8> = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(h) = rest.get(..5) else {
            f.error = Some(ParseError::Truncated("tls record header"));
            break;
        };
        let (kind, major, len) = (h[0], h[1], usize::from(u16::from_be_bytes([h[3], h[4]])));
        if !(20..=24).contains(&kind) || !(major == 3 || major == 0xfe) {
            f.error = Some(ParseError::Malformed("not a tls record"));
            break;
        }
        let Some(body) = rest.get(5..5 + len) else {
            f.error = Some(ParseError::Truncated("tls record"));
            break;
        };
        rest = rest.get(5 + len..).unwrap_or(&[]);
        match kind {
            20 => {
                f.change_cipher_spec = true;
                break;
            }
            21 => {
                if let Some(d) = body.get(1) {
                    f.alerts.push(*d);
                }
            }
            22 => {
                if handshake.len() + body.len() > MAX_HANDSHAKE {
                    f.error = Some(ParseError::Malformed("tls handshake too long"));
                    break;
                }
                handshake.extend_from_slice(body);
            }
            23 => {
                f.application_data = true;
                break;
            }
            _ => {}
        }
    }
    let mut hs: &[u8] = &handshake;
    while let Some(h) = hs.get(..4) {
        let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let Some(body) = hs.get(4..4 + len) else {
            f.error
                .get_or_insert(ParseError::Truncated("tls handshake message"));
            break;
        };
        hs = hs.get(4 + len..).unwrap_or(&[]);
        let t = HandshakeType(h[0]);
        f.messages.push(t);
        let parsed = match t.0 {
            1 if from_client && f.client_hello.is_none() => {
                parse_client_hello(body).map(|c| f.client_hello = Some(c))
            }
            2 if !from_client && f.server_hello.is_none() => {
                parse_server_hello(body).map(|s| f.server_hello = Some(s))
            }
            // ECDHE ServerKeyExchange: curve_type 3 (named_curve), then the group.
            12 if body.first() == Some(&3) => {
                if let Some(g) = body.get(1..3) {
                    f.ske_curve = Some(NamedGroup(u16::from_be_bytes([g[0], g[1]])));
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = parsed {
            f.error.get_or_insert(e);
        }
    }
    f
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(sep)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ClientHello {
    /// The JA3 string: version, ciphers, extensions, groups, point formats
    /// (decimal, `-` within a field, `,` between), GREASE left out.
    pub fn ja3_string(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.version.0,
            join(
                self.ciphers.iter().map(|c| c.0).filter(|v| !is_grease(*v)),
                "-"
            ),
            join(self.extensions.iter().filter(|v| !is_grease(**v)), "-"),
            join(
                self.groups.iter().map(|g| g.0).filter(|v| !is_grease(*v)),
                "-"
            ),
            join(self.point_formats.iter(), "-"),
        )
    }

    /// JA3: the MD5 of [`Self::ja3_string`], in hex.
    pub fn ja3(&self) -> String {
        hex(&Md5::digest(self.ja3_string().as_bytes()))
    }

    /// JA4 (FoxIO's TLS client fingerprint, `a_b_c`), for TLS over TCP.
    pub fn ja4(&self) -> String {
        let version = self
            .supported_versions
            .iter()
            .filter(|v| !is_grease(v.0))
            .max()
            .copied()
            .unwrap_or(self.version);
        let ciphers: Vec<u16> = self
            .ciphers
            .iter()
            .map(|c| c.0)
            .filter(|v| !is_grease(*v))
            .collect();
        let exts: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .collect();
        let alpn = match self.alpn.first().map(|a| a.as_bytes()) {
            Some([]) | None => "00".to_string(),
            Some(b) => {
                let (first, last) = (b[0], b[b.len() - 1]);
                if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                    format!("{}{}", char::from(first), char::from(last))
                } else {
                    let h = hex(&[first, last]);
                    format!("{}{}", &h[..1], &h[3..])
                }
            }
        };
        let a = format!(
            "t{}{}{:02}{:02}{}",
            version.ja4(),
            if self.server_name.is_some() { 'd' } else { 'i' },
            ciphers.len().min(99),
            exts.len().min(99),
            alpn
        );
        let truncated_hash = |s: &str| -> String {
            if s.is_empty() {
                "000000000000".to_string()
            } else {
                hex(&Sha256::digest(s.as_bytes()))
                    .chars()
                    .take(12)
                    .collect()
            }
        };
        let mut sorted_ciphers = ciphers.clone();
        sorted_ciphers.sort_unstable();
        let b = truncated_hash(&join(
            sorted_ciphers.iter().map(|c| format!("{c:04x}")),
            ",",
        ));
        let mut sorted_exts: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 16).collect();
        sorted_exts.sort_unstable();
        let mut c_text = join(sorted_exts.iter().map(|e| format!("{e:04x}")), ",");
        if !self.signature_algorithms.is_empty() {
            c_text.push('_');
            c_text.push_str(&join(
                self.signature_algorithms.iter().map(|s| format!("{s:04x}")),
                ",",
            ));
        }
        let c = if sorted_exts.is_empty() {
            "000000000000".to_string()
        } else {
            truncated_hash(&c_text)
        };
        format!("{a}_{b}_{c}")
    }
}

impl ServerHello {
    /// The JA3S string: version, cipher, extensions.
    pub fn ja3s_string(&self) -> String {
        format!(
            "{},{},{}",
            self.version.0,
            self.cipher.0,
            join(self.extensions.iter().filter(|v| !is_grease(**v)), "-")
        )
    }

    /// JA3S: the MD5 of [`Self::ja3s_string`], in hex.
    pub fn ja3s(&self) -> String {
        hex(&Md5::digest(self.ja3s_string().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_hello_record() -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([0u8; 32]);
        body.push(0);
        let ciphers = [0x0a0au16, 0x1301, 0xc02f, 0x002f];
        body.extend(((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            body.extend(c.to_be_bytes());
        }
        body.extend([1, 0]);
        let mut ext = Vec::new();
        let mut push = |kind: u16, data: &[u8]| {
            ext.extend(kind.to_be_bytes());
            ext.extend((data.len() as u16).to_be_bytes());
            ext.extend_from_slice(data);
        };
        push(0x2a2a, &[]);
        push(
            0,
            &[
                0, 14, 0, 0, 11, b'd', b'c', b'0', b'1', b'.', b'c', b'o', b'r', b'p', b'.', b'x',
            ],
        );
        push(10, &[0, 4, 0, 29, 0, 23]);
        push(11, &[1, 0]);
        push(13, &[0, 4, 4, 3, 8, 4]);
        push(16, &[0, 3, 2, b'h', b'2']);
        push(43, &[4, 3, 4, 3, 3]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn client_hello_fields_ja3_and_ja4() {
        let f = parse_flight(&client_hello_record(), true);
        assert_eq!(f.error, None);
        let c = f.client_hello.unwrap();
        assert_eq!(c.server_name.as_deref(), Some("dc01.corp.x"));
        assert_eq!(c.alpn, vec!["h2".to_string()]);
        assert_eq!(c.ja3_string(), "771,4865-49199-47,0-10-11-13-16-43,29-23,0");
        assert_eq!(c.ja3().len(), 32);
        let ja4 = c.ja4();
        assert!(ja4.starts_with("t13d0306h2_"), "{ja4}");
        assert_eq!(ja4.len(), "t13d0306h2_".len() + 12 + 1 + 12);
        assert_eq!(f.messages, vec![HandshakeType(1)]);
    }

    #[test]
    fn server_hello_and_every_truncation() {
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.extend([0, 0xc0, 0x30, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
        let s = parse_server_hello(&body).unwrap();
        assert_eq!(s.cipher.name(), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(s.negotiated_version().zeek_name(), Some("TLSv13"));
        assert_eq!(s.ja3s_string(), "771,49200,43");
        let rec = client_hello_record();
        for cut in 0..rec.len() {
            let f = parse_flight(&rec[..cut], true);
            assert!(f.client_hello.is_none() && (cut == 0 || f.error.is_some()));
        }
        assert!(parse_flight(b"GET / HTTP/1.1\r\n", true).error.is_some());
        assert_eq!(CipherSuite(0x1234).name(), "unknown-4660");
    }
}
