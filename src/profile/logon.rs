//! Who logs on where: per (user, source host, target host) logon counters.
//!
//! Filled from authentication [`crate::model::event::LogEvent`]s (Windows
//! 4624/4625/4648/4672/4769, sshd, sudo, pam). Small bitsets keep the logon
//! types and methods seen; counters saturate. Exactly mergeable.

use crate::model::Action;
use crate::model::event::{LogEvent, Timestamp};
use serde::{Deserialize, Serialize};

/// A logon or failed logon that came over the network (Windows logon types
/// 3 network, 8 cleartext, 10 remote interactive; or a daemon's logon
/// with a remote address, like sshd): the logons whose hours profiles keep
/// per account, and the ones detectors judge.
pub fn is_network_logon(e: &LogEvent) -> bool {
    if !matches!(e.action, Action::LoggedIn | Action::LogonFailed) {
        return false;
    }
    match e.logon_type {
        Some(t) => matches!(t, 3 | 8 | 10),
        None => e.source_ip.is_some(),
    }
}

/// A set of authentication methods, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Methods(pub u8);

impl Methods {
    /// NTLM (any version).
    pub const NTLM: Methods = Methods(1);
    /// Kerberos.
    pub const KERBEROS: Methods = Methods(2);
    /// Windows Negotiate (the package chose NTLM or Kerberos).
    pub const NEGOTIATE: Methods = Methods(4);
    /// Password (sshd `password`, pam).
    pub const PASSWORD: Methods = Methods(8);
    /// SSH public key.
    pub const PUBLICKEY: Methods = Methods(16);
    /// SSH keyboard-interactive.
    pub const KEYBOARD_INTERACTIVE: Methods = Methods(32);
    /// Explicit credentials (Windows 4648, `runas`).
    pub const EXPLICIT: Methods = Methods(64);
    /// Anything else named by the record.
    pub const OTHER: Methods = Methods(128);

    /// The method a record names (`NTLM`, `NTLM (NTLM V2)`, `Kerberos`,
    /// `Negotiate`, `password`, `publickey`, `keyboard-interactive/pam`, ...).
    pub fn parse(s: &str) -> Methods {
        // The usual spellings, whole, without lower-casing a copy.
        for (word, m) in [
            ("kerberos", Methods::KERBEROS),
            ("ntlm", Methods::NTLM),
            ("negotiate", Methods::NEGOTIATE),
            ("password", Methods::PASSWORD),
            ("publickey", Methods::PUBLICKEY),
        ] {
            if s.eq_ignore_ascii_case(word) {
                return m;
            }
        }
        let l = s.to_ascii_lowercase();
        if l.contains("ntlm") {
            Methods::NTLM
        } else if l.contains("kerberos") {
            Methods::KERBEROS
        } else if l.contains("negotiate") {
            Methods::NEGOTIATE
        } else if l.starts_with("publickey") {
            Methods::PUBLICKEY
        } else if l.starts_with("keyboard-interactive") {
            Methods::KEYBOARD_INTERACTIVE
        } else if l.starts_with("password") {
            Methods::PASSWORD
        } else if l.is_empty() {
            Methods(0)
        } else {
            Methods::OTHER
        }
    }

    /// True when every method of `other` is in this set.
    pub fn contains(self, other: Methods) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    pub fn union(self, other: Methods) -> Methods {
        Methods(self.0 | other.0)
    }

    /// Names of the methods in the set, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [&str; 8] = [
            "ntlm",
            "kerberos",
            "negotiate",
            "password",
            "publickey",
            "keyboard-interactive",
            "explicit",
            "other",
        ];
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// A set of Windows logon types 0..=15, as bits (2 interactive, 3 network,
/// 4 batch, 5 service, 7 unlock, 8 network cleartext, 9 new credentials,
/// 10 remote interactive (RDP), 11 cached interactive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogonTypes(pub u16);

impl LogonTypes {
    /// Adds a logon type (types above 15 are ignored).
    pub fn insert(&mut self, t: u8) {
        if t < 16 {
            self.0 |= 1 << t;
        }
    }

    /// True when the type was seen.
    pub fn contains(self, t: u8) -> bool {
        t < 16 && self.0 & (1 << t) != 0
    }

    /// The types seen, ascending.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0..16u8).filter(move |t| self.contains(*t))
    }
}

/// Counters for one (user, source host, target host) triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogonStats {
    /// First record.
    pub first: Timestamp,
    /// Last record.
    pub last: Timestamp,
    /// Successful logons.
    pub successes: u32,
    /// Failed logons.
    pub failures: u32,
    /// Privileged sessions: 4672 special privileges, sudo to root.
    pub privileged: u32,
    /// Of those, Windows special privileges (4672).
    pub special_privileges: u32,
    /// Windows logon types seen.
    pub types: LogonTypes,
    /// Methods seen.
    pub methods: Methods,
}

impl LogonStats {
    /// Stats of nothing yet at one instant (counters zero).
    pub fn at(ts: Timestamp) -> LogonStats {
        LogonStats {
            first: ts,
            last: ts,
            successes: 0,
            failures: 0,
            privileged: 0,
            special_privileges: 0,
            types: LogonTypes::default(),
            methods: Methods::default(),
        }
    }

    /// Folds another triple's stats in (exact).
    pub fn merge(&mut self, o: &LogonStats) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.successes = self.successes.saturating_add(o.successes);
        self.failures = self.failures.saturating_add(o.failures);
        self.privileged = self.privileged.saturating_add(o.privileged);
        self.special_privileges = self.special_privileges.saturating_add(o.special_privileges);
        self.types = LogonTypes(self.types.0 | o.types.0);
        self.methods = self.methods.union(o.methods);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_and_name() {
        assert_eq!(Methods::parse("NTLM (NTLM V2)"), Methods::NTLM);
        assert_eq!(Methods::parse("Kerberos"), Methods::KERBEROS);
        assert_eq!(Methods::parse("publickey"), Methods::PUBLICKEY);
        assert_eq!(
            Methods::parse("keyboard-interactive/pam"),
            Methods::KEYBOARD_INTERACTIVE
        );
        assert_eq!(Methods::parse("password"), Methods::PASSWORD);
        assert_eq!(Methods::parse("Negotiate"), Methods::NEGOTIATE);
        assert_eq!(Methods::parse("hostbased"), Methods::OTHER);
        let m = Methods::NTLM.union(Methods::PUBLICKEY);
        assert!(m.contains(Methods::NTLM) && !m.contains(Methods::KERBEROS));
        assert_eq!(m.names(), vec!["ntlm", "publickey"]);
        let mut t = LogonTypes::default();
        t.insert(3);
        t.insert(10);
        t.insert(200);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![3, 10]);
    }
}
