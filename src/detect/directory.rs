//! Host names and addresses as the detectors look them up: which name an
//! address has (for reports), which address a name has, and the one
//! identity ([`HostKey`]) a record's host has, so that a logon written by
//! `SRV-CHAMBER`, a flow to 10.10.2.20 and a 4624 from its link-local IPv6
//! address are about the same host. Built from the host directory
//! ([`crate::hosts::HostDirectory`]), which weighs the logs' evidence once
//! for profiles and detectors alike: the keys here are the profiles' keys.
//!
//! When [`Directory::add`] is told several names for one address, or one
//! name for several addresses, the smallest wins, so the result never
//! depends on input order. (Lookups only: the maps are never iterated into
//! output.)

use crate::model::HostKey;
use crate::model::event::Text;
use crate::model::host::{canonical_ip, normalize_name};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Names and addresses of hosts.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Each named address's host: its short name (inline text, so lookups
    /// read no other memory).
    names: FxHashMap<IpAddr, Text>,
    /// Each named host's smallest address.
    addrs: FxHashMap<Text, IpAddr>,
}

/// The lower-case short form of a host name as a host key holds it
/// (`SHUGIIN\WS-017$` and `ws-017.corp.local` give `ws-017`); for text
/// that is no host name, its lower-case first label.
pub fn short_name(name: &str) -> String {
    match normalize_name(name) {
        Some(n) => n.short.into(),
        None => {
            let n = name.trim().trim_start_matches('\\');
            n.split('.').next().unwrap_or(n).to_ascii_lowercase()
        }
    }
}

impl Directory {
    /// The names and addresses a host directory resolved
    /// ([`crate::hosts::HostDirectory`]): each address gets its host's short
    /// name, each name its host's smallest address.
    pub fn from_hosts(hosts: &crate::hosts::HostDirectory) -> Directory {
        let mut d = Directory::default();
        d.fill_from(hosts);
        d
    }

    /// Adds the names and addresses of `hosts` that this directory does not
    /// know yet (what it knows stays).
    pub fn fill_from(&mut self, hosts: &crate::hosts::HostDirectory) {
        for h in hosts.hosts() {
            let Some(short) = h.key.name() else { continue };
            let short = Text::from(short);
            for ip in &h.ips {
                self.names.entry(*ip).or_insert_with(|| short.clone());
            }
            if let Some(ip) = h.ips.first() {
                self.addrs.entry(short).or_insert(*ip);
            }
        }
    }

    /// Records that `ip` is called `name`.
    pub fn add(&mut self, ip: IpAddr, name: &str) {
        let Some(short) = normalize_name(name).map(|n| n.short) else {
            return;
        };
        let ip = canonical_ip(ip);
        match self.names.get(&ip) {
            Some(old) if *old <= short => {}
            _ => {
                self.names.insert(ip, short.clone());
            }
        }
        match self.addrs.get(&short) {
            Some(old) if *old <= ip => {}
            _ => {
                self.addrs.insert(short, ip);
            }
        }
    }

    /// The name of an address.
    pub fn name(&self, ip: IpAddr) -> Option<&str> {
        self.names.get(&canonical_ip(ip)).map(Text::as_str)
    }

    /// The address of a name (any spelling).
    pub fn addr(&self, name: &str) -> Option<IpAddr> {
        match HostKey::from_name(name)? {
            HostKey::Addr(ip) => Some(ip),
            HostKey::Name(short) => self.addrs.get(&short).copied(),
        }
    }

    /// The smallest address of a named host, or the address an address key is.
    pub fn addr_of(&self, key: &HostKey) -> Option<IpAddr> {
        match key {
            HostKey::Addr(ip) => Some(*ip),
            HostKey::Name(short) => self.addrs.get(short).copied(),
        }
    }

    /// The host an address belongs to: its named host, else the address.
    pub fn key_for_ip(&self, ip: IpAddr) -> HostKey {
        let ip = canonical_ip(ip);
        match self.names.get(&ip) {
            Some(short) => HostKey::Name(short.clone()),
            None => HostKey::Addr(ip),
        }
    }

    /// Whether two addresses are one host: equal, or both named for the
    /// same host (a dual-stack host's IPv4 and IPv6 addresses). A host's
    /// own addresses never make an edge to itself.
    pub fn same_host(&self, a: IpAddr, b: IpAddr) -> bool {
        let (a, b) = (canonical_ip(a), canonical_ip(b));
        a == b || matches!((self.names.get(&a), self.names.get(&b)), (Some(x), Some(y)) if x == y)
    }

    /// The key of a host given by address and/or name, as the profiles key
    /// it: the address's host when an address is given (an address is what
    /// the network saw; a name in a logon record is what the client
    /// claimed), else the name's. `None` when neither identifies a host.
    pub fn key(&self, ip: Option<IpAddr>, name: Option<&str>) -> Option<HostKey> {
        if let Some(ip) = ip {
            return Some(self.key_for_ip(ip));
        }
        match HostKey::from_name(name?)? {
            HostKey::Addr(ip) => Some(self.key_for_ip(ip)),
            named => Some(named),
        }
    }

    /// A host reference for reports, from an address and/or a name.
    pub fn host(&self, ip: Option<IpAddr>, name: Option<&str>) -> Option<crate::alert::HostRef> {
        let name = name.and_then(HostKey::from_name);
        let ip = ip.or_else(|| name.as_ref().and_then(|k| self.addr_of(k)));
        let name = ip
            .and_then(|i| self.name(i).map(str::to_string))
            .or_else(|| name.as_ref().and_then(|k| k.name().map(str::to_string)));
        if ip.is_none() && name.is_none() {
            return None;
        }
        Some(crate::alert::HostRef { ip, name })
    }

    /// A host reference for an address, with its name if known.
    pub fn host_ip(&self, ip: IpAddr) -> crate::alert::HostRef {
        crate::alert::HostRef {
            ip: Some(ip),
            name: self.name(ip).map(str::to_string),
        }
    }

    /// A host reference for a key: its name and smallest address.
    pub fn host_of(&self, key: &HostKey) -> crate::alert::HostRef {
        let ip = self.addr_of(key);
        let name = key.name().or_else(|| ip.and_then(|i| self.name(i)));
        crate::alert::HostRef {
            ip,
            name: name.map(str::to_string),
        }
    }

    /// Number of named addresses.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no names are known.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::LogEvent;

    #[test]
    fn names_come_from_the_host_directory() {
        let public: IpAddr = "198.51.100.7".parse().unwrap();
        let answer = LogEvent {
            action: Action::DnsAnswer,
            dataset: "zeek.dns".into(),
            destination_ip: Some(public),
            destination_domain: Some("www.example.com".into()),
            ..LogEvent::default()
        };
        let logon = LogEvent {
            action: Action::LoggedIn,
            dataset: "windows.security".into(),
            code: Some(4624),
            source_ip: Some("10.0.0.17".parse().unwrap()),
            source_domain: Some("WS-017".into()),
            ..LogEvent::default()
        };
        let written = LogEvent {
            action: Action::LoggedIn,
            dataset: "windows.security".into(),
            host_ip: Some("10.0.0.20".parse().unwrap()),
            host_name: Some("SRV-CHAMBER.corp.local".into()),
            ..LogEvent::default()
        };
        let mut b = crate::hosts::DirectoryBuilder::new();
        for e in [&answer, &logon, &written] {
            b.observe(e);
        }
        let mut d = Directory::from_hosts(&b.finish());
        // DNS names only private addresses: a CDN address names nothing.
        assert_eq!(d.name(public), None);
        assert_eq!(d.name("10.0.0.17".parse().unwrap()), Some("ws-017"));
        assert_eq!(d.addr("SRV-CHAMBER"), "10.0.0.20".parse().ok());
        // Filling keeps what is known and adds the rest.
        let mut later = crate::hosts::DirectoryBuilder::new();
        later.observe(&LogEvent {
            host_ip: Some("10.0.0.20".parse().unwrap()),
            host_name: Some("other".into()),
            ..written.clone()
        });
        later.observe(&LogEvent {
            host_ip: Some("10.0.0.30".parse().unwrap()),
            host_name: Some("ws-030".into()),
            ..written.clone()
        });
        d.fill_from(&later.finish());
        assert_eq!(d.name("10.0.0.20".parse().unwrap()), Some("srv-chamber"));
        assert_eq!(d.name("10.0.0.30".parse().unwrap()), Some("ws-030"));
    }

    #[test]
    fn names_and_addresses_resolve_both_ways() {
        let mut d = Directory::default();
        let ip: IpAddr = "10.10.2.20".parse().unwrap();
        d.add(ip, "SRV-CHAMBER.shugiin.local");
        d.add(ip, "-");
        assert_eq!(d.name(ip), Some("srv-chamber"));
        assert_eq!(d.addr("srv-chamber"), Some(ip));
        let named = |n: &str| Some(HostKey::Name(n.into()));
        assert_eq!(d.key(None, Some("SRV-CHAMBER")), named("srv-chamber"));
        assert_eq!(d.key(Some(ip), Some("other")), named("srv-chamber"));
        assert_eq!(d.key(None, Some("10.10.2.20")), named("srv-chamber"));
        assert_eq!(d.key(None, Some("WS-9$")), named("ws-9"));
        assert_eq!(d.key(None, Some("-")), None);
        let v6: IpAddr = "fe80::5".parse().unwrap();
        assert_eq!(d.key(Some(v6), None), Some(HostKey::Addr(v6)));
        d.add(v6, "srv-chamber");
        assert_eq!(d.key(Some(v6), None), named("srv-chamber"));
        assert!(d.same_host(v6, ip) && d.same_host(ip, ip));
        let other: IpAddr = "10.10.2.21".parse().unwrap();
        assert!(!d.same_host(ip, other) && !d.same_host(other, "10.10.2.22".parse().unwrap()));
    }
}
