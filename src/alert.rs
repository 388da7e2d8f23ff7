//! Alerts: what a detector found, with the records that prove it.
//!
//! Detectors (`crate::detect`) produce [`Alert`]s; `crate::incident` joins
//! them into incidents and the reports write them out. An alert names its
//! rule and ATT&CK technique, a risk score, the hosts and users involved,
//! and its evidence: the flows and log records behind it, each with its
//! file and byte offset or line.
//!
//! Alert ids are stable: `LA-` followed by 16 hex digits of the 64-bit
//! FNV-1a hash of the rule id, the alert's entity keys (source,
//! destination, destination port, user) and the UTC day its first record
//! falls in, joined with `|`. The same activity on the same day gives the
//! same id in every run, so a nightly sweep can tell new alerts from ones
//! already reported. The activity id (`LC-`, the same hash without the
//! day) names the activity across days: a C2 channel that beacons on
//! every night keeps its activity id, and `--seen` mutes an alert whose id
//! or activity id an earlier report holds.

use crate::model::HostKey;
use crate::model::event::{Origin, Position, Timestamp};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Most evidence records kept per alert (the total is still counted).
pub const MAX_EVIDENCE: usize = 32;

/// A detection rule's fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, e.g. `lateral.new-admin-edge`.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// One sentence on what the rule flags.
    pub description: &'static str,
}

/// A MITRE ATT&CK technique with its tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Technique {
    /// Tactic name, e.g. `Lateral Movement`.
    pub tactic: &'static str,
    /// Technique id, e.g. `T1021.002`.
    pub id: &'static str,
    /// Technique name.
    pub name: &'static str,
}

/// The ATT&CK techniques the rules map to.
pub mod attack {
    use super::Technique;

    const LM: &str = "Lateral Movement";
    /// T1021: Remote Services.
    pub const REMOTE_SERVICES: Technique = Technique {
        tactic: LM,
        id: "T1021",
        name: "Remote Services",
    };
    /// T1021.001: Remote Desktop Protocol.
    pub const RDP: Technique = Technique {
        tactic: LM,
        id: "T1021.001",
        name: "Remote Services: Remote Desktop Protocol",
    };
    /// T1021.002: SMB/Windows Admin Shares.
    pub const SMB: Technique = Technique {
        tactic: LM,
        id: "T1021.002",
        name: "Remote Services: SMB/Windows Admin Shares",
    };
    /// T1021.003: Distributed Component Object Model.
    pub const DCOM: Technique = Technique {
        tactic: LM,
        id: "T1021.003",
        name: "Remote Services: Distributed Component Object Model",
    };
    /// T1021.004: SSH.
    pub const SSH: Technique = Technique {
        tactic: LM,
        id: "T1021.004",
        name: "Remote Services: SSH",
    };
    /// T1021.005: VNC.
    pub const VNC: Technique = Technique {
        tactic: LM,
        id: "T1021.005",
        name: "Remote Services: VNC",
    };
    /// T1021.006: Windows Remote Management.
    pub const WINRM: Technique = Technique {
        tactic: LM,
        id: "T1021.006",
        name: "Remote Services: Windows Remote Management",
    };
    /// T1046: Network Service Discovery.
    pub const DISCOVERY: Technique = Technique {
        tactic: "Discovery",
        id: "T1046",
        name: "Network Service Discovery",
    };
    /// T1078: Valid Accounts.
    pub const VALID_ACCOUNTS: Technique = Technique {
        tactic: "Defense Evasion",
        id: "T1078",
        name: "Valid Accounts",
    };
    /// T1550: Use Alternate Authentication Material.
    pub const ALT_AUTH: Technique = Technique {
        tactic: LM,
        id: "T1550",
        name: "Use Alternate Authentication Material",
    };
    /// T1550.002: Pass the Hash.
    pub const PASS_THE_HASH: Technique = Technique {
        tactic: LM,
        id: "T1550.002",
        name: "Use Alternate Authentication Material: Pass the Hash",
    };
    /// T1110.001: Password Guessing.
    pub const PASSWORD_GUESSING: Technique = Technique {
        tactic: "Credential Access",
        id: "T1110.001",
        name: "Brute Force: Password Guessing",
    };
    /// T1110.003: Password Spraying.
    pub const PASSWORD_SPRAYING: Technique = Technique {
        tactic: "Credential Access",
        id: "T1110.003",
        name: "Brute Force: Password Spraying",
    };
    /// T1569.002: Service Execution.
    pub const SERVICE_EXECUTION: Technique = Technique {
        tactic: "Execution",
        id: "T1569.002",
        name: "System Services: Service Execution",
    };
    /// T1071: Application Layer Protocol.
    pub const C2_APP_PROTOCOL: Technique = Technique {
        tactic: "Command and Control",
        id: "T1071",
        name: "Application Layer Protocol",
    };
    /// T1074: Data Staged.
    pub const DATA_STAGED: Technique = Technique {
        tactic: "Collection",
        id: "T1074",
        name: "Data Staged",
    };
    /// T1041: Exfiltration Over C2 Channel.
    pub const EXFIL_C2: Technique = Technique {
        tactic: "Exfiltration",
        id: "T1041",
        name: "Exfiltration Over C2 Channel",
    };

    /// The technique of moving over a remote-admin service.
    pub fn of_service(svc: crate::model::AdminService) -> Technique {
        use crate::model::AdminService;
        match svc {
            AdminService::Smb => SMB,
            AdminService::Rdp => RDP,
            AdminService::WinRm => WINRM,
            AdminService::Ssh => SSH,
            AdminService::Rpc => DCOM,
            AdminService::Vnc => VNC,
            AdminService::Telnet => REMOTE_SERVICES,
        }
    }
}

/// A host as an alert names it: its address, its name, or both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HostRef {
    /// The host's address, when known.
    pub ip: Option<IpAddr>,
    /// The host's name (from logs or DNS), when known.
    pub name: Option<String>,
}

impl HostRef {
    /// A host known by address.
    pub fn ip(ip: IpAddr) -> HostRef {
        HostRef {
            ip: Some(ip),
            name: None,
        }
    }

    /// The host's identity: its name's key when it has one (the name the
    /// host directory gives its address), else its address's.
    pub fn key(&self) -> Option<HostKey> {
        self.name
            .as_deref()
            .and_then(HostKey::from_name)
            .or_else(|| self.ip.map(HostKey::Addr))
    }

    /// How a person reads it: the name, else the address.
    pub fn label(&self) -> String {
        match (&self.name, &self.ip) {
            (Some(n), _) => n.clone(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => "?".into(),
        }
    }
}

/// A host's part of an alert id: its address, else its lower-case name.
/// Spelled as ids have always been, so ids stay stable across releases
/// (and `--seen` files keep muting); the host's identity is [`HostRef::key`].
fn id_part(h: &HostRef) -> String {
    match (&h.ip, &h.name) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(n)) => n.to_ascii_lowercase(),
        (None, None) => String::new(),
    }
}

/// What kind of record a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceKind {
    /// A connection record from a capture (or conn.log).
    Flow,
    /// A log record.
    Log,
}

impl EvidenceKind {
    /// The name written in output.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::Flow => "flow",
            EvidenceKind::Log => "log",
        }
    }
}

/// One record behind an alert, enough to find the raw bytes again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Evidence {
    /// When the record happened.
    pub ts: Timestamp,
    /// Flow or log.
    pub kind: EvidenceKind,
    /// Where it is (absent only for records built in memory).
    pub origin: Option<Origin>,
    /// A short summary: the flow uid and endpoints, or the event code and action.
    pub summary: String,
}

impl Evidence {
    /// The file the record is in, or `-`.
    pub fn file(&self) -> &str {
        self.origin.as_ref().map_or("-", |o| &o.file)
    }

    /// The byte offset or line.
    pub fn position(&self) -> Option<Position> {
        self.origin.as_ref().map(|o| o.at)
    }
}

/// ECS `event.severity` bands of the 0-100 risk score, as Elastic's
/// detection rules map a risk score to a severity (so a SIEM shows the
/// band `lateral` meant, and `lateral eval` judges by the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// 0 to 21.
    Low,
    /// 22 to 47.
    Medium,
    /// 48 to 73.
    High,
    /// 74 and above.
    Critical,
}

impl Severity {
    /// The band a score falls in.
    pub fn of(score: u8) -> Severity {
        match score {
            74.. => Severity::Critical,
            48..=73 => Severity::High,
            22..=47 => Severity::Medium,
            _ => Severity::Low,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// ECS `event.severity` number (1 low .. 4 critical).
    pub fn number(self) -> u8 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }
}

/// One finding of one detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Stable id (see the module documentation).
    pub id: String,
    /// The id of the activity, whatever the day: the same rule, hosts, port
    /// and account give the same `LC-` id on every night, so `--seen` can
    /// mute activity that goes on from one night to the next.
    pub activity_id: String,
    /// Incident the alert belongs to (set by `crate::incident`).
    pub incident_id: Option<String>,
    /// The rule that fired.
    pub rule: Rule,
    /// The ATT&CK technique.
    pub technique: Technique,
    /// Risk score, 0-100.
    pub score: u8,
    /// First record's time.
    pub start: Timestamp,
    /// Last record's time.
    pub end: Timestamp,
    /// Where the activity came from.
    pub source: Option<HostRef>,
    /// Where it went.
    pub destination: Option<HostRef>,
    /// Destination port, when one port is meant.
    pub destination_port: Option<u16>,
    /// The account involved.
    pub user: Option<String>,
    /// Every address involved.
    pub related_ips: BTreeSet<IpAddr>,
    /// Every account involved.
    pub related_users: BTreeSet<String>,
    /// Whether the alert is a step from source to destination (joins chains).
    pub movement: bool,
    /// Whether the other related addresses are further sources (convergence)
    /// rather than further destinations (fan-out, spray); for joining incidents.
    pub peers_are_sources: bool,
    /// Whether the alert is about an edge the baseline already holds (its
    /// source, or its account, routinely reaches the destination): the
    /// destination then joins no other source's alerts into its incident,
    /// since two users reaching their usual file server at odd hours are
    /// two stories, not a convergence. Chains through it still join.
    pub known_edge: bool,
    /// Whether the rule judged the activity its source's routine and
    /// capped it low for that (a scan by a scanner, a roll-out by an admin
    /// host, an administrator's account reaching many hosts): an incident
    /// of nothing but such alerts gains no bonus for their number or
    /// variety, since a credentialed scan is one job, not two techniques.
    pub routine: bool,
    /// Why it is unusual, for a person.
    pub message: String,
    /// Records behind the alert, in time order, at most [`MAX_EVIDENCE`].
    pub evidence: Vec<Evidence>,
    /// How many records were behind it in all.
    pub evidence_total: usize,
    /// The rule set the rule belongs to when it is not lateral's own
    /// (`sigma` for `--sigma` rules; ECS `rule.ruleset`).
    pub ruleset: Option<&'static str>,
    /// Every host the alert involves (source, destination, related
    /// addresses) as the run resolved it, with the role it was judged by:
    /// written with the alert (`lateral.hosts`) so that stored alerts can
    /// be suppressed and joined into incidents again exactly as the run
    /// did (`lateral report`). Filled in after detection; empty before.
    pub involved: Vec<Involved>,
}

/// A host an alert involves, as the run that judged it resolved it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Involved {
    /// The address the alert names it by, when it names one.
    pub ip: Option<IpAddr>,
    /// The host's one identity in that run (its short name, else its address).
    pub key: HostKey,
    /// Its role in the baseline (or the role priors) the alert was judged
    /// against: asked by its address when the alert names one, else by key.
    pub role: crate::model::Role,
    /// The role asked by key (the same unless the host's addresses are
    /// configured apart, e.g. one of them listed as a scanner).
    pub key_role: crate::model::Role,
}

/// Most distinct texts [`intern`] keeps for the life of the process.
pub const MAX_INTERNED: usize = 1 << 16;

/// Longest text [`intern`] keeps.
pub const MAX_INTERNED_LEN: usize = 4096;

/// Rule and technique texts that did not come with this build (Sigma
/// rules, alerts read back from a file) as the `'static` text an [`Alert`]
/// holds: each distinct text is stored once for the process. `None` once
/// [`MAX_INTERNED`] texts are held, or for a text longer than
/// [`MAX_INTERNED_LEN`], so hostile input cannot grow it without bound.
pub fn intern(s: &str) -> Option<&'static str> {
    use std::sync::{Mutex, OnceLock};
    static STORE: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    if s.len() > MAX_INTERNED_LEN {
        return None;
    }
    let store = STORE.get_or_init(Default::default);
    let mut g = match store.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(v) = g.get(s) {
        return Some(v);
    }
    if g.len() >= MAX_INTERNED {
        return None;
    }
    let v: &'static str = Box::leak(s.to_string().into_boxed_str());
    g.insert(v);
    Some(v)
}

impl Alert {
    /// A new alert with the fields every alert has; the others start empty.
    pub fn new(rule: Rule, technique: Technique, score: u8, start: Timestamp) -> Alert {
        Alert {
            id: String::new(),
            activity_id: String::new(),
            incident_id: None,
            rule,
            technique,
            score: score.min(100),
            start,
            end: start,
            source: None,
            destination: None,
            destination_port: None,
            user: None,
            related_ips: BTreeSet::new(),
            related_users: BTreeSet::new(),
            movement: false,
            peers_are_sources: false,
            known_edge: false,
            routine: false,
            message: String::new(),
            evidence: Vec::new(),
            evidence_total: 0,
            ruleset: None,
            involved: Vec::new(),
        }
    }

    /// Severity band of the score.
    pub fn severity(&self) -> Severity {
        Severity::of(self.score)
    }

    /// Adds evidence, keeping the earliest [`MAX_EVIDENCE`] records.
    pub fn add_evidence(&mut self, ev: Evidence) {
        self.evidence_total += 1;
        if ev.ts < self.start {
            self.start = ev.ts;
        }
        if ev.ts > self.end {
            self.end = ev.ts;
        }
        self.evidence.push(ev);
        if self.evidence.len() > MAX_EVIDENCE * 2 {
            self.trim_evidence();
        }
    }

    fn trim_evidence(&mut self) {
        self.evidence.sort();
        self.evidence.dedup();
        self.evidence.truncate(MAX_EVIDENCE);
    }

    /// Fills in related addresses and users from the named entities, sorts
    /// and trims the evidence, and computes the stable id. Detectors call
    /// this last.
    pub fn finish(mut self) -> Alert {
        self.trim_evidence();
        for h in [&self.source, &self.destination].into_iter().flatten() {
            if let Some(ip) = h.ip {
                self.related_ips.insert(ip);
            }
        }
        if let Some(u) = &self.user {
            self.related_users.insert(u.clone());
        }
        let day = self.start.secs().div_euclid(86_400);
        let activity = format!(
            "{}|{}|{}|{}|{}",
            self.rule.id,
            self.source.as_ref().map(id_part).unwrap_or_default(),
            self.destination.as_ref().map(id_part).unwrap_or_default(),
            self.destination_port
                .map(|p| p.to_string())
                .unwrap_or_default(),
            self.user.as_deref().unwrap_or("").to_ascii_lowercase(),
        );
        self.activity_id = format!("LC-{:016x}", fnv1a(activity.as_bytes()));
        let key = format!("{activity}|{day}");
        self.id = format!("LA-{:016x}", fnv1a(key.as_bytes()));
        self
    }

    /// The order alerts are written in: time, then id.
    pub fn output_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
        a.start
            .cmp(&b.start)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.end.cmp(&b.end))
    }
}

/// Minutes to nanoseconds, saturating: the windows of the settings
/// (`window_minutes` and the like) as the detectors and the incident
/// builder compare timestamps.
pub fn minutes(m: u64) -> i64 {
    i64::try_from(m)
        .unwrap_or(i64::MAX / 120_000_000_000)
        .saturating_mul(60_000_000_000)
}

/// A score from a float, rounded and clamped to 0-100 (NaN is 0): how
/// detectors and incidents turn their arithmetic into an [`Alert`]'s or
/// an incident's score.
pub fn clamp_score(v: f64) -> u8 {
    if v.is_nan() {
        0
    } else {
        v.round().clamp(0.0, 100.0) as u8
    }
}

/// 64-bit FNV-1a: a tiny, fixed hash, identical on every platform.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        id: "lateral.test",
        name: "test",
        description: "test rule",
    };

    #[test]
    fn ids_depend_on_rule_entities_and_day_only() {
        let t = Timestamp::from_parts(1_311_555_600, 0);
        let mk = |secs: i64, port: u16| {
            let mut a = Alert::new(RULE, attack::SMB, 50, Timestamp::from_parts(secs, 0));
            a.source = Some(HostRef::ip("10.0.0.1".parse().unwrap()));
            a.destination_port = Some(port);
            a.finish()
        };
        let a = mk(t.secs(), 445);
        assert_eq!(a.id, mk(t.secs() + 600, 445).id);
        assert_ne!(a.id, mk(t.secs() + 86_400, 445).id);
        assert_ne!(a.id, mk(t.secs(), 3389).id);
        assert!(a.id.starts_with("LA-") && a.id.len() == 19);
        assert!(
            a.related_ips
                .contains(&"10.0.0.1".parse::<IpAddr>().unwrap())
        );
    }

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn severity_bands() {
        // Elastic's risk-score bands, edges included.
        assert_eq!(Severity::of(0), Severity::Low);
        assert_eq!(Severity::of(21), Severity::Low);
        assert_eq!(Severity::of(22), Severity::Medium);
        assert_eq!(Severity::of(47), Severity::Medium);
        assert_eq!(Severity::of(48), Severity::High);
        assert_eq!(Severity::of(73), Severity::High);
        assert_eq!(Severity::of(74), Severity::Critical);
        assert_eq!(Severity::of(100), Severity::Critical);
    }
}
