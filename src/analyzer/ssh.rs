//! SSH (RFC 4253) connection setup, in the capture source (stage 2): the
//! version strings both sides send, the algorithm lists of each side's
//! KEXINIT and the algorithms they agree on, and a guess at whether the user
//! authenticated, made from the sizes of encrypted packets as Zeek's SSH
//! analyzer does (everything after NEWKEYS is opaque). Stateless `parse_*`
//! functions read the clear parts; [`SshState`] follows one connection.

pub use crate::analyzer::ber::ParseError;

/// Most bytes of one direction buffered before its keys change.
pub const MAX_CLEAR: usize = 256 * 1024;
/// Most encrypted segment sizes kept per direction.
pub const MAX_SIZES: usize = 256;
/// Longest version line RFC 4253 allows, with CR LF.
const MAX_VERSION_LINE: usize = 255;

/// An SSH message number; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsgNumber(pub u8);

impl MsgNumber {
    /// SSH_MSG_KEXINIT.
    pub const KEXINIT: MsgNumber = MsgNumber(20);
    /// SSH_MSG_NEWKEYS.
    pub const NEWKEYS: MsgNumber = MsgNumber(21);
    /// SSH_MSG_KEXDH_REPLY and SSH_MSG_KEX_ECDH_REPLY (in a DH group
    /// exchange the same number is SSH_MSG_KEX_DH_GEX_GROUP).
    pub const KEX_REPLY: MsgNumber = MsgNumber(31);
    /// SSH_MSG_KEX_DH_GEX_REPLY.
    pub const KEX_DH_GEX_REPLY: MsgNumber = MsgNumber(33);
}

/// SHA-256 of the first string (the server host key blob, K_S) of the key
/// exchange replies a direction sent, by the message number carrying it;
/// which one is the host key depends on the key exchange agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostKeyDigests {
    /// From message 31 (KEXDH_REPLY, KEX_ECDH_REPLY).
    pub msg31: Option<[u8; 32]>,
    /// From message 33 (KEX_DH_GEX_REPLY).
    pub msg33: Option<[u8; 32]>,
}

/// SHA-256 of the first SSH `string` of a message's payload (after its
/// number), if it is whole.
fn first_string_sha256(payload: &[u8]) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let len = u32::from_be_bytes(payload.get(1..5)?.try_into().ok()?) as usize;
    let blob = payload.get(5..5usize.checked_add(len)?)?;
    Some(Sha256::digest(blob).into())
}

/// A version line: `SSH-protoversion-softwareversion [comments]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Version {
    /// The whole line without CR LF (what Zeek logs as `client`/`server`).
    pub line: String,
    /// Protocol version (`2.0`, `1.99`, `1.5`).
    pub proto: String,
    /// Software version and comments.
    pub software: String,
}

impl Version {
    /// The major protocol version Zeek logs: 1 for `1.x` other than `1.99`, else 2.
    pub fn major(&self) -> u8 {
        if self.proto.starts_with("1.") && self.proto != "1.99" {
            1
        } else {
            2
        }
    }
}

/// The algorithm lists of a KEXINIT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KexInit {
    /// Key exchange algorithms.
    pub kex: Vec<String>,
    /// Server host key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers client to server.
    pub cipher_c2s: Vec<String>,
    /// Ciphers server to client.
    pub cipher_s2c: Vec<String>,
    /// MACs client to server.
    pub mac_c2s: Vec<String>,
    /// MACs server to client.
    pub mac_s2c: Vec<String>,
    /// Compression client to server.
    pub compression_c2s: Vec<String>,
    /// Compression server to client.
    pub compression_s2c: Vec<String>,
}

/// Reads a version line, skipping lines before it (servers may send
/// some). Returns the version and the bytes after its line.
pub fn parse_version(data: &[u8]) -> Result<(Version, &[u8]), ParseError> {
    let mut rest = data;
    loop {
        let nl = memchr::memchr(
            b'\n',
            rest.get(..rest.len().min(MAX_VERSION_LINE + 1))
                .unwrap_or(rest),
        );
        let Some(nl) = nl else {
            return Err(if rest.len() > MAX_VERSION_LINE {
                ParseError::Malformed("ssh version line too long")
            } else {
                ParseError::Truncated("ssh version line")
            });
        };
        let line = rest.get(..nl).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let after = rest.get(nl + 1..).unwrap_or(&[]);
        if let Some(v) = line.strip_prefix(b"SSH-") {
            let text = String::from_utf8_lossy(line).into_owned();
            let v = String::from_utf8_lossy(v);
            let (proto, software) = v
                .split_once('-')
                .ok_or(ParseError::Malformed("ssh version without software"))?;
            return Ok((
                Version {
                    proto: proto.to_string(),
                    software: software.to_string(),
                    line: text,
                },
                after,
            ));
        }
        if data.len() - after.len() > 16 * 1024 {
            return Err(ParseError::Malformed("ssh banner too long"));
        }
        rest = after;
    }
}

/// Reads one unencrypted binary packet: returns its payload (without
/// padding) and the rest.
pub fn parse_packet(data: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let h = data
        .get(..5)
        .ok_or(ParseError::Truncated("ssh packet header"))?;
    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let pad = usize::from(h[4]);
    if !(5..=35_000).contains(&len) || pad + 1 > len {
        return Err(ParseError::Malformed("ssh packet length"));
    }
    let end = 4 + len;
    let body = data
        .get(5..end)
        .ok_or(ParseError::Truncated("ssh packet"))?;
    let payload = body
        .get(..len - 1 - pad)
        .ok_or(ParseError::Malformed("ssh padding"))?;
    Ok((payload, data.get(end..).unwrap_or(&[])))
}

fn name_list(p: &[u8], at: &mut usize) -> Result<Vec<String>, ParseError> {
    let h = p
        .get(*at..*at + 4)
        .ok_or(ParseError::Truncated("ssh name-list"))?;
    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let start = *at + 4;
    let end = start
        .checked_add(len)
        .ok_or(ParseError::Malformed("ssh name-list"))?;
    let s = p
        .get(start..end)
        .ok_or(ParseError::Truncated("ssh name-list"))?;
    *at = end;
    let s = String::from_utf8_lossy(s);
    Ok(if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_string).collect()
    })
}

/// Parses a KEXINIT payload (message number 20 first).
pub fn parse_kexinit(payload: &[u8]) -> Result<KexInit, ParseError> {
    if payload.first() != Some(&MsgNumber::KEXINIT.0) {
        return Err(ParseError::Malformed("not a kexinit"));
    }
    let mut at = 17; // number and 16-byte cookie
    Ok(KexInit {
        kex: name_list(payload, &mut at)?,
        host_key: name_list(payload, &mut at)?,
        cipher_c2s: name_list(payload, &mut at)?,
        cipher_s2c: name_list(payload, &mut at)?,
        mac_c2s: name_list(payload, &mut at)?,
        mac_s2c: name_list(payload, &mut at)?,
        compression_c2s: name_list(payload, &mut at)?,
        compression_s2c: name_list(payload, &mut at)?,
    })
}

/// The algorithm RFC 4253 chooses: the client's first that the server also lists.
pub fn negotiate(client: &[String], server: &[String]) -> Option<String> {
    client.iter().find(|c| server.contains(c)).cloned()
}

/// The algorithms both sides agreed on (client-to-server for cipher, MAC, compression).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// Key exchange.
    pub kex: Option<String>,
    /// Host key.
    pub host_key: Option<String>,
    /// Cipher.
    pub cipher: Option<String>,
    /// MAC.
    pub mac: Option<String>,
    /// Compression.
    pub compression: Option<String>,
}

/// Agrees the algorithms of two KEXINITs.
pub fn negotiate_all(client: &KexInit, server: &KexInit) -> Negotiated {
    Negotiated {
        kex: negotiate(&client.kex, &server.kex),
        host_key: negotiate(&client.host_key, &server.host_key),
        cipher: negotiate(&client.cipher_c2s, &server.cipher_c2s),
        mac: negotiate(&client.mac_c2s, &server.mac_c2s),
        compression: negotiate(&client.compression_c2s, &server.compression_c2s),
    }
}

/// What the encrypted packet sizes suggest about authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthGuess {
    /// `Some(true)` success, `Some(false)` only failures seen, `None` undecided.
    pub success: Option<bool>,
    /// Authentication attempts counted.
    pub attempts: u32,
}

/// Guesses the outcome of user authentication from the sizes of the
/// server's encrypted segments, in order, as Zeek's SSH analyzer does.
///
/// The first encrypted answer is the SERVICE_ACCEPT for `ssh-userauth`.
/// Each failed attempt draws a USERAUTH_FAILURE, and those all have one
/// size (the list of methods that may continue). A reply smaller than the
/// service accept is a USERAUTH_SUCCESS (one byte of payload), and one of
/// another size than the failures is the session starting after a success.
pub fn guess_auth(server_sizes: &[u32]) -> AuthGuess {
    let mut g = AuthGuess::default();
    let Some((&accept, rest)) = server_sizes.split_first() else {
        return g;
    };
    let mut failure: Option<u32> = None;
    for &size in rest {
        g.attempts = g.attempts.saturating_add(1);
        if size < accept {
            g.success = Some(true);
            return g;
        }
        match failure {
            None => failure = Some(size),
            Some(f) if f == size => {}
            Some(_) => {
                g.success = Some(true);
                return g;
            }
        }
    }
    // Only failure-sized replies: the last one may yet have been a success
    // if nothing followed it, so decide only on two or more.
    if g.attempts >= 2 {
        g.success = Some(false);
    } else {
        g.attempts = 0;
    }
    g
}

/// One direction of an SSH connection, followed segment by segment.
#[derive(Debug, Clone, Default)]
pub struct Direction {
    clear: Vec<u8>,
    /// The version line, once read.
    pub version: Option<Version>,
    /// The KEXINIT, once read.
    pub kexinit: Option<KexInit>,
    /// The host key blobs of the key exchange replies sent, hashed.
    pub host_key: HostKeyDigests,
    /// Whether NEWKEYS was seen (what follows is encrypted).
    pub encrypted: bool,
    /// Sizes of encrypted segments after NEWKEYS, in order (at most [`MAX_SIZES`]).
    pub encrypted_sizes: Vec<u32>,
    /// Why reading the clear part stopped, if it failed.
    pub error: Option<ParseError>,
}

impl Direction {
    /// Takes the next in-order segment of this direction's payload.
    pub fn segment(&mut self, data: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.encrypted {
            self.push_size(data.len());
            return;
        }
        let room = MAX_CLEAR.saturating_sub(self.clear.len());
        if data.len() > room {
            self.error = Some(ParseError::Malformed("ssh clear text too long"));
            return;
        }
        self.clear.extend_from_slice(data);
        let buf = std::mem::take(&mut self.clear);
        let mut rest: &[u8] = &buf;
        if self.version.is_none() {
            match parse_version(rest) {
                Ok((v, after)) => {
                    self.version = Some(v);
                    rest = after;
                }
                Err(ParseError::Truncated(_)) => {
                    self.clear = buf;
                    return;
                }
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            }
        }
        loop {
            match parse_packet(rest) {
                Ok((payload, after)) => {
                    rest = after;
                    match payload.first().map(|b| MsgNumber(*b)) {
                        Some(MsgNumber::KEXINIT) if self.kexinit.is_none() => {
                            match parse_kexinit(payload) {
                                Ok(k) => self.kexinit = Some(k),
                                Err(e) => {
                                    self.error = Some(e);
                                    return;
                                }
                            }
                        }
                        Some(MsgNumber::KEX_REPLY) if self.host_key.msg31.is_none() => {
                            self.host_key.msg31 = first_string_sha256(payload);
                        }
                        Some(MsgNumber::KEX_DH_GEX_REPLY) if self.host_key.msg33.is_none() => {
                            self.host_key.msg33 = first_string_sha256(payload);
                        }
                        Some(MsgNumber::NEWKEYS) => {
                            self.encrypted = true;
                            if !rest.is_empty() {
                                self.push_size(rest.len());
                            }
                            return;
                        }
                        _ => {}
                    }
                }
                Err(ParseError::Truncated(_)) => {
                    self.clear = rest.to_vec();
                    return;
                }
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            }
        }
    }

    fn push_size(&mut self, n: usize) {
        if self.encrypted_sizes.len() < MAX_SIZES {
            self.encrypted_sizes
                .push(u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
}

/// One SSH connection: both directions.
#[derive(Debug, Clone, Default)]
pub struct SshState {
    /// The client's side.
    pub client: Direction,
    /// The server's side.
    pub server: Direction,
}

impl SshState {
    /// The algorithms agreed, once both KEXINITs are known.
    pub fn negotiated(&self) -> Option<Negotiated> {
        Some(negotiate_all(
            self.client.kexinit.as_ref()?,
            self.server.kexinit.as_ref()?,
        ))
    }

    /// SHA-256 of the server's host key blob, from its key exchange reply
    /// (message 33 when a DH group exchange was agreed, else 31); `None`
    /// for SSH 1, or when the reply or either KEXINIT was not seen.
    pub fn host_key_sha256(&self) -> Option<[u8; 32]> {
        let kex = self.negotiated()?.kex?;
        if kex.contains("group-exchange") {
            self.server.host_key.msg33
        } else {
            self.server.host_key.msg31
        }
    }

    /// The authentication guess from the server's encrypted segment sizes.
    pub fn auth(&self) -> AuthGuess {
        if self.server.version.as_ref().is_some_and(|v| v.major() == 1) {
            return AuthGuess::default();
        }
        guess_auth(&self.server.encrypted_sizes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(payload: &[u8]) -> Vec<u8> {
        let pad = 8 - (payload.len() + 5) % 8 + 4;
        let mut v = ((payload.len() + pad + 1) as u32).to_be_bytes().to_vec();
        v.push(pad as u8);
        v.extend_from_slice(payload);
        v.extend(std::iter::repeat_n(0, pad));
        v
    }

    fn kexinit(lists: [&str; 10]) -> Vec<u8> {
        let mut p = vec![20u8];
        p.extend([7u8; 16]);
        for l in lists {
            p.extend((l.len() as u32).to_be_bytes());
            p.extend(l.as_bytes());
        }
        p.extend([0, 0, 0, 0, 0]);
        p
    }

    #[test]
    fn versions_kexinit_and_negotiation_across_segments() {
        let mut state = SshState::default();
        let mut c = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
        c.extend(packet(&kexinit([
            "curve25519-sha256,ecdh-sha2-nistp256",
            "ssh-ed25519,rsa-sha2-512",
            "aes128-ctr,chacha20-poly1305@openssh.com",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ])));
        let mut s = b"banner line\r\nSSH-1.99-Cisco-1.25\r\n".to_vec();
        s.extend(packet(&kexinit([
            "ecdh-sha2-nistp256,curve25519-sha256",
            "rsa-sha2-512",
            "chacha20-poly1305@openssh.com,aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none,zlib",
            "none",
            "",
            "",
        ])));
        s.extend(packet(&[21]));
        for chunk in c.chunks(7) {
            state.client.segment(chunk);
        }
        state.server.segment(&s);
        for size in [52, 68, 68, 36, 300] {
            state.server.segment(&vec![0; size]);
        }
        assert_eq!(
            state.client.version.as_ref().unwrap().line,
            "SSH-2.0-OpenSSH_9.6"
        );
        assert_eq!(state.server.version.as_ref().unwrap().major(), 2);
        let n = state.negotiated().unwrap();
        assert_eq!(n.kex.as_deref(), Some("curve25519-sha256"));
        assert_eq!(n.host_key.as_deref(), Some("rsa-sha2-512"));
        assert_eq!(n.cipher.as_deref(), Some("aes128-ctr"));
        assert_eq!(
            state.auth(),
            AuthGuess {
                success: Some(true),
                attempts: 3
            }
        );
    }

    #[test]
    fn guessing_failures_and_hostile_bytes() {
        assert_eq!(
            guess_auth(&[52, 68, 68, 68]),
            AuthGuess {
                success: Some(false),
                attempts: 3
            }
        );
        assert_eq!(
            guess_auth(&[52, 68]),
            AuthGuess {
                success: None,
                attempts: 0
            }
        );
        assert_eq!(guess_auth(&[]), AuthGuess::default());
        assert!(parse_packet(&[0xff, 0xff, 0xff, 0xff, 4]).is_err());
        assert!(parse_kexinit(&[20, 1, 2]).is_err());
        assert!(parse_version(&[b'x'; 300]).is_err());
        let mut d = Direction::default();
        d.segment(b"SSH-2.0-x\r\n\x00\x00\x00\x0c\x0a");
        d.segment(&[0xff; 64]);
        assert!(
            d.error.is_some(),
            "a length past the limit stops the direction"
        );
        d.segment(b"more");
        assert!(d.version.is_some() && !d.encrypted);
    }
}
