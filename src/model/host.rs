//! Host identity: the one key every stage uses for a host.
//!
//! A capture knows a host by address, a Windows event by NetBIOS name, a
//! Kerberos event by computer account, a DNS answer by FQDN. The host
//! directory ([`crate::hosts::HostDirectory`]) decides which of these are
//! one machine; this module defines what it decides *to*: a [`HostKey`],
//! the host's normalised short name when any source names it, else its
//! address. Profiles, baselines, detectors and incidents all key hosts by
//! it, so one machine has one identity whatever a record calls it.
//!
//! The key is typed (an address stays an [`IpAddr`], never text parsed
//! back), but it orders, prints and serialises as its text (`ws-017`,
//! `10.0.0.17`), so files written with the text form read unchanged.

use super::event::Text;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

/// The canonical identity of a host: its normalised short name when any
/// source names it (`ws-017`), else its address (`10.0.0.17`).
///
/// Ordered and serialised as its text. Names never parse as addresses
/// ([`normalize_name`] refuses them), so the two kinds cannot collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostKey {
    /// A host known only by an address.
    Addr(IpAddr),
    /// A named host: its lower-case short name.
    Name(Text),
}

impl HostKey {
    /// The key of a host known only by an address.
    pub fn from_ip(ip: IpAddr) -> HostKey {
        HostKey::Addr(ip)
    }

    /// The key of a host name in any spelling (`WS-017`, `ws-017.shugiin.local`,
    /// `WS-017$`, `SHUGIIN\WS-017`); an IP literal gives the address's key;
    /// `None` for text that is not a host name (empty, `-`, `localhost`,
    /// spaces...).
    pub fn from_name(raw: &str) -> Option<HostKey> {
        if let Some(ip) = parse_ip(raw) {
            return Some(HostKey::Addr(ip));
        }
        normalize_name(raw).map(|n| HostKey::Name(n.short))
    }

    /// The key as text: the name, or the address as `Display` writes it.
    /// Inline (no allocation) for short names and IPv4 addresses.
    pub fn text(&self) -> Text {
        match self {
            HostKey::Addr(ip) => ip_text(*ip),
            HostKey::Name(n) => n.clone(),
        }
    }

    /// The address, when this host is known only by one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            HostKey::Addr(ip) => Some(*ip),
            HostKey::Name(_) => None,
        }
    }

    /// The short name, when the host has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            HostKey::Addr(_) => None,
            HostKey::Name(n) => Some(n.as_str()),
        }
    }

    /// True when the host has a name (the key is not an address).
    pub fn is_named(&self) -> bool {
        matches!(self, HostKey::Name(_))
    }
}

impl Ord for HostKey {
    /// The order of the keys' texts (`10.0.0.17` < `10.0.0.2` < `ws-017`),
    /// the order every file and report of hosts has always had.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (HostKey::Name(a), HostKey::Name(b)) => a.as_str().cmp(b.as_str()),
            (HostKey::Addr(a), HostKey::Addr(b)) if a == b => Ordering::Equal,
            (HostKey::Addr(a), HostKey::Name(b)) => ip_text(*a).as_str().cmp(b.as_str()),
            (HostKey::Name(a), HostKey::Addr(b)) => a.as_str().cmp(ip_text(*b).as_str()),
            (HostKey::Addr(a), HostKey::Addr(b)) => ip_text(*a).as_str().cmp(ip_text(*b).as_str()),
        }
    }
}

impl PartialOrd for HostKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Addr(ip) => write!(f, "{ip}"),
            HostKey::Name(n) => f.write_str(n),
        }
    }
}

impl Serialize for HostKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for HostKey {
    /// Reads the text form: an address literal is an address key, any
    /// other text a name key (as written; keys are stored normalised).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HostKey, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(
            match could_be_ip(&t).then(|| t.parse::<IpAddr>().ok()).flatten() {
                Some(ip) => HostKey::Addr(ip),
                None => HostKey::Name(t),
            },
        )
    }
}

/// The text of an address as `Display` writes it. IPv4 (most keys) is
/// written digit by digit into inline text, without the formatter.
pub fn ip_text(ip: IpAddr) -> Text {
    match ip {
        IpAddr::V4(v4) => {
            let mut t = Text::default();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    t.push('.');
                }
                let digit = |d: u8| char::from(b'0' + d % 10);
                if octet >= 100 {
                    t.push(digit(octet / 100));
                }
                if octet >= 10 {
                    t.push(digit(octet / 10));
                }
                t.push(digit(octet));
            }
            t
        }
        IpAddr::V6(_) => {
            use std::fmt::Write;
            let mut t = Text::default();
            let _ = write!(t, "{ip}");
            t
        }
    }
}

/// An address as one host: an IPv4-mapped IPv6 address
/// (`::ffff:10.0.0.17`) is the IPv4 address it carries.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A host name in normal form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NormalName {
    /// Lowercase first label (`ws-017`).
    pub short: Text,
    /// Lowercase full name when the input had a domain part (`ws-017.shugiin.local`).
    pub fqdn: Option<String>,
}

/// Normalises a host name: trims, drops a leading `\\`, a `DOMAIN\` prefix,
/// a trailing `$` (computer accounts) and a trailing `.`, lowercases.
/// Returns `None` for IP literals and for text that is not a host name
/// (empty, placeholders, `localhost`, characters outside `[a-z0-9-_.]`).
pub fn normalize_name(raw: &str) -> Option<NormalName> {
    let mut s = raw.trim();
    s = s.trim_start_matches('\\');
    if let Some((_, after)) = s.rsplit_once('\\') {
        s = after;
    }
    s = s.strip_suffix('$').unwrap_or(s);
    s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty()
        || s.len() > 253
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || parse_ip(s).is_some()
    {
        return None;
    }
    let (first, dotted) = match s.split_once('.') {
        Some((first, _)) => (first, true),
        None => (s, false),
    };
    let mut short = Text::from(first);
    short.make_ascii_lowercase();
    if short.is_empty()
        || matches!(
            short.as_str(),
            "localhost" | "unknown" | "null" | "none" | "anonymous" | "-"
        )
    {
        return None;
    }
    let fqdn = dotted.then(|| s.to_ascii_lowercase());
    Some(NormalName { short, fqdn })
}

/// Whether `s` could be an IP literal at all: every IPv6 address has a
/// colon, every IPv4 address is digits and dots. Names fail this at their
/// first letter, before any address parser runs.
pub fn could_be_ip(s: &str) -> bool {
    s.bytes().any(|b| b == b':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// An address literal (`10.0.0.17`, `[fe80::1]`, `::ffff:10.0.0.17`) as the
/// address of one host ([`canonical_ip`]); `None` for anything else.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    if s.is_empty() || !could_be_ip(s) {
        return None;
    }
    s.parse().ok().map(canonical_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> HostKey {
        HostKey::from_name(s).unwrap()
    }

    #[test]
    fn spellings_of_one_name_are_one_key() {
        for s in [
            "WS-017",
            "ws-017.shugiin.local",
            "WS-017$",
            "SHUGIIN\\WS-017",
            "\\\\ws-017",
        ] {
            assert_eq!(key(s), HostKey::Name("ws-017".into()), "{s}");
        }
        assert_eq!(HostKey::from_name("-"), None);
        assert_eq!(HostKey::from_name("localhost"), None);
        assert_eq!(HostKey::from_name("two words"), None);
    }

    #[test]
    fn address_literals_are_address_keys() {
        let v4: IpAddr = "10.0.0.17".parse().unwrap();
        assert_eq!(key("10.0.0.17"), HostKey::Addr(v4));
        assert_eq!(key("::ffff:10.0.0.17"), HostKey::Addr(v4));
        assert_eq!(key("[fe80::1]").ip(), "fe80::1".parse().ok());
        assert_eq!(key("10.0.0.17").name(), None);
        assert_eq!(key("ws-1").name(), Some("ws-1"));
    }

    #[test]
    fn keys_order_as_their_text() {
        let mut keys = [
            key("ws-2"),
            key("10.0.0.2"),
            key("10.0.0.17"),
            key("fe80::1"),
        ];
        keys.sort();
        let text: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let mut sorted = text.clone();
        sorted.sort();
        assert_eq!(text, sorted);
        assert_eq!(text, ["10.0.0.17", "10.0.0.2", "fe80::1", "ws-2"]);
    }

    #[test]
    fn keys_serialise_as_text_and_read_back_typed() {
        for k in [key("ws-017"), key("10.0.0.17"), key("fe80::1")] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            let back: HostKey = serde_json::from_str(&json).unwrap();
            assert_eq!(back, k);
            assert_eq!(back.ip().is_some(), k.ip().is_some());
        }
    }
}
