//! Host names and addresses as the detectors look them up: which name an
//! address has (for reports) and which address a name has (so that a logon
//! written by `SRV-CHAMBER` and a flow to 10.10.2.20 are about the same
//! host). Built from the host directory ([`crate::hosts::HostDirectory`]),
//! which weighs the logs' evidence once for profiles and detectors alike.
//!
//! Names are compared as lower-case short names (`WS-017.corp.local` and
//! `ws-017` are one host). When [`Directory::add`] is told several names
//! for one address, or one name for several addresses, the smallest wins,
//! so the result never depends on input order. (Lookups only: the maps are
//! never iterated into output.)

use super::common::lower_text;
use crate::model::event::Text;
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Names and addresses of hosts.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Keys are inline text (short names), so lookups read no other memory.
    names: FxHashMap<IpAddr, Text>,
    addrs: FxHashMap<Text, IpAddr>,
}

/// A host name without surrounding space, leading `\\` or domain part.
fn short_part(name: &str) -> &str {
    let n = name.trim().trim_start_matches('\\');
    n.split('.').next().unwrap_or(n)
}

/// The lower-case short form of a host name (up to the first dot).
pub fn short_name(name: &str) -> String {
    short_part(name).to_ascii_lowercase()
}

fn usable_name(n: &str) -> bool {
    let n = n.trim();
    !(n.is_empty()
        || n == "-"
        || n.eq_ignore_ascii_case("localhost")
        || (crate::hosts::could_be_ip(n) && n.parse::<IpAddr>().is_ok()))
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
            if !h.key.is_named() || !usable_name(h.key.as_str()) {
                continue;
            }
            let short = Text::from(short_name(h.key.as_str()));
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
        if !usable_name(name) {
            return;
        }
        let short = Text::from(short_name(name));
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
        self.names.get(&ip).map(Text::as_str)
    }

    /// The address of a name.
    pub fn addr(&self, name: &str) -> Option<IpAddr> {
        let short = short_part(name);
        if short.bytes().any(|b| b.is_ascii_uppercase()) {
            self.addrs.get(lower_text(short).as_str()).copied()
        } else {
            self.addrs.get(short).copied()
        }
    }

    /// The key of a host given by address and/or name: the address (or
    /// the address the name resolves to), else the short name.
    /// Inline text for short names and IPv4 addresses, so keys cost no
    /// allocation.
    pub fn key(&self, ip: Option<IpAddr>, name: Option<&str>) -> Option<Text> {
        if let Some(ip) = ip {
            return Some(crate::hosts::ip_text(ip));
        }
        let name = name.filter(|n| usable_name(n))?;
        Some(match self.addr(name) {
            Some(ip) => crate::hosts::ip_text(ip),
            None => lower_text(short_part(name)),
        })
    }

    /// A host reference for reports, from an address and/or a name.
    pub fn host(&self, ip: Option<IpAddr>, name: Option<&str>) -> Option<crate::alert::HostRef> {
        let name = name.filter(|n| usable_name(n));
        let ip = ip.or_else(|| name.and_then(|n| self.addr(n)));
        if ip.is_none() && name.is_none() {
            return None;
        }
        let name = ip
            .and_then(|i| self.name(i).map(str::to_string))
            .or_else(|| name.map(short_name));
        Some(crate::alert::HostRef { ip, name })
    }

    /// A host reference for an address, with its name if known.
    pub fn host_ip(&self, ip: IpAddr) -> crate::alert::HostRef {
        crate::alert::HostRef {
            ip: Some(ip),
            name: self.name(ip).map(str::to_string),
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
        assert_eq!(d.key(None, Some("SRV-CHAMBER")), Some("10.10.2.20".into()));
        assert_eq!(d.key(None, Some("ws-9")), Some("ws-9".into()));
        assert_eq!(d.key(None, Some("-")), None);
    }
}
