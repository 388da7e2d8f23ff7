//! The host directory: one identity per host, whatever the source calls it.
//!
//! A capture knows a host by IP, a Windows event by NetBIOS name, a Kerberos
//! event by computer account and client address, a DNS answer by FQDN. The
//! directory joins them: a [`DirectoryBuilder`] collects (IP, name) evidence
//! from [`LogEvent`]s (and an optional `--hosts` CSV file) in parallel-safe,
//! mergeable form; [`DirectoryBuilder::finish`] resolves conflicts
//! deterministically into a [`HostDirectory`], which every later stage
//! (profiles, detectors) uses to turn an IP or a name into a [`HostKey`].
//!
//! Evidence read from events:
//! - Windows 4624/4625: `source.domain` (WorkstationName) with `source.ip` (IpAddress);
//! - Kerberos 4768/4769/4771: a computer account (`user.name` ending `$`) with `source.ip`;
//! - Sysmon 3: source and destination host names with their addresses,
//!   and (weakly) both addresses with the name of the host that wrote it;
//! - any event with both `host.name` and `host.ip`;
//! - DNS answers: events with action `dns-answer`, the answered name in
//!   `destination.domain` and the address in `destination.ip` (captures), or
//!   else the question name with each address answer (Zeek dns.log); only
//!   private addresses are named this way (outside hosts keep their
//!   addresses: one CDN address serves many names);
//! - names alone (`host.name`, 4776 Workstation, `source.domain`) make a
//!   host known without an address.
//!
//! Conflicts (one IP named two ways, e.g. DHCP reuse) are resolved per IP:
//! the hosts file beats data; among data, the name with most evidence, then
//! the earliest seen, then the lexicographically smallest. All evidence is
//! kept, with which pair won, for `lateral events --hosts-only`.

pub mod session;

use crate::diag::Diagnostics;
use crate::model::Action;
use crate::model::Role;
use crate::model::event::{LogEvent, Origin, Position, Text, Timestamp};
pub use crate::model::host::HostKey;
use crate::model::host::{normalize_name, parse_ip};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

/// Whether a DNS answer may name `ip`: only private addresses (RFC 1918,
/// IPv6 unique-local and link-local). Public addresses behind CDNs and
/// shared hosting carry many names each, and one name many addresses; keyed
/// by short name (`www`), unrelated sites would merge into one host, so
/// outside hosts keep their addresses as identities.
fn names_by_dns(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_private() || v4.is_link_local(),
            None => v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}

/// Where a piece of (IP, name) evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    /// A row of the `--hosts` file.
    HostsFile,
    /// Windows 4624/4625 WorkstationName with IpAddress.
    WindowsLogon,
    /// A computer account in a Kerberos event (4768/4769/4771) with the client address.
    Kerberos,
    /// Sysmon network-connection host names with addresses.
    Sysmon,
    /// A DNS answer (`dns-answer` events from Zeek dns.log or captures).
    Dns,
    /// A log record's own `host.name` with `host.ip`.
    HostRecord,
    /// A session a host's own log recorded (a logon, a share access) and
    /// the one connection a capture holds for it: the log names the host,
    /// the capture gives its address (see [`session`]). Used only for
    /// addresses no stronger source names.
    SessionTiming,
    /// Weak: an address in a Sysmon network event, named after the host
    /// that wrote it (the writer is one end of the connection, not saying
    /// which). Used only for addresses no other source names, and only when
    /// the address and the name are each other's best match.
    SysmonWriter,
}

impl EvidenceSource {
    /// The kebab-case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceSource::HostsFile => "hosts-file",
            EvidenceSource::WindowsLogon => "windows-logon",
            EvidenceSource::Kerberos => "kerberos",
            EvidenceSource::Sysmon => "sysmon",
            EvidenceSource::Dns => "dns",
            EvidenceSource::HostRecord => "host-record",
            EvidenceSource::SysmonWriter => "sysmon-writer",
            EvidenceSource::SessionTiming => "session-timing",
        }
    }
}

/// How often, and since when, one source said an IP has a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Records saying so.
    pub count: u64,
    /// Earliest such record.
    pub first_seen: Timestamp,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.count = self.count.saturating_add(other.count);
        self.first_seen = self.first_seen.min(other.first_seen);
    }
}

/// One (IP, name, source) observation, aggregated, as kept in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The address.
    pub ip: IpAddr,
    /// The normalised short name it was given (inline text: no allocation).
    pub name: Text,
    /// Which kind of record said so.
    pub source: EvidenceSource,
    /// How many records, since when.
    pub tally: Tally,
    /// True when this name won the IP (false: the IP resolved to another host).
    pub chosen: bool,
}

/// One host in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEntry {
    /// Its identity.
    pub key: HostKey,
    /// Addresses that resolve to it, ascending.
    pub ips: Vec<IpAddr>,
    /// Its names: the short name first, then FQDNs seen, ascending.
    pub names: Vec<String>,
    /// The role the hosts file gives it, if any.
    pub role: Option<Role>,
    /// All (IP, name) evidence naming it, by IP then source.
    pub evidence: Vec<Evidence>,
}

/// The resolved directory: IP or name in, [`HostKey`] out. Deterministic
/// (built only from sorted maps) and serde-serialisable (the baseline keeps it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDirectory {
    hosts: BTreeMap<HostKey, HostEntry>,
    by_ip: BTreeMap<IpAddr, HostKey>,
}

impl HostDirectory {
    /// An empty directory: every IP is its own host, every name its own host.
    pub fn new() -> HostDirectory {
        HostDirectory::default()
    }

    /// The host an address belongs to: the named host it resolved to, else
    /// the address's own key. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn key_for_ip(&self, ip: IpAddr) -> HostKey {
        let ip = crate::model::host::canonical_ip(ip);
        self.by_ip
            .get(&ip)
            .cloned()
            .unwrap_or_else(|| HostKey::from_ip(ip))
    }

    /// The host a name (any spelling, see [`HostKey::from_name`]) belongs to.
    /// An IP literal resolves as [`HostDirectory::key_for_ip`]. A valid name
    /// the directory has never seen is still its own host; `None` only for
    /// text that is not a host name.
    pub fn key_for_name(&self, raw: &str) -> Option<HostKey> {
        if let Some(ip) = parse_ip(raw) {
            return Some(self.key_for_ip(ip));
        }
        normalize_name(raw).map(|n| HostKey::Name(n.short))
    }

    /// The host a record names by address and/or name: the address's host
    /// when there is an address, else the name's; `None` for neither.
    pub fn key_of(&self, ip: Option<IpAddr>, name: Option<&str>) -> Option<HostKey> {
        match ip {
            Some(ip) => Some(self.key_for_ip(ip)),
            None => self.key_for_name(name?),
        }
    }

    /// Addresses known to belong to a host (empty for an unknown host; a host
    /// keyed by its address gives that address).
    pub fn ips_of(&self, key: &HostKey) -> Vec<IpAddr> {
        match self.hosts.get(key) {
            Some(e) => e.ips.clone(),
            None => key.ip().into_iter().collect(),
        }
    }

    /// Names known for a host: short name first, then FQDNs (empty for a
    /// host keyed by an address with no name).
    pub fn names_of(&self, key: &HostKey) -> Vec<String> {
        match self.hosts.get(key) {
            Some(e) => e.names.clone(),
            None => key.name().map(str::to_string).into_iter().collect(),
        }
    }

    /// The role the hosts file gives a host.
    pub fn given_role(&self, key: &HostKey) -> Option<Role> {
        self.hosts.get(key).and_then(|e| e.role)
    }

    /// One host's entry.
    pub fn get(&self, key: &HostKey) -> Option<&HostEntry> {
        self.hosts.get(key)
    }

    /// Every named host, by key.
    pub fn hosts(&self) -> impl Iterator<Item = &HostEntry> {
        self.hosts.values()
    }

    /// Number of named hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// True when no host has a name.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Writes the directory as JSON Lines, one host per line in key order:
    /// `{"host.key", "host.ip": [...], "host.name": [...], "host.type"?
    /// (role from the hosts file), "evidence": [{ip, name, source, count,
    /// first_seen (not for hosts-file rows), chosen}]}`.
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(rename = "host.key")]
            key: Text,
            #[serde(rename = "host.ip")]
            ips: &'a [IpAddr],
            #[serde(rename = "host.name")]
            names: &'a [String],
            #[serde(rename = "host.type", skip_serializing_if = "Option::is_none")]
            role: Option<&'static str>,
            evidence: Vec<EvidenceLine<'a>>,
        }
        #[derive(Serialize)]
        struct EvidenceLine<'a> {
            ip: IpAddr,
            name: &'a str,
            source: &'static str,
            count: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            first_seen: Option<String>,
            chosen: bool,
        }
        for e in self.hosts.values() {
            let line = Line {
                key: e.key.text(),
                ips: &e.ips,
                names: &e.names,
                role: e.role.map(Role::name),
                evidence: e
                    .evidence
                    .iter()
                    .map(|v| EvidenceLine {
                        ip: v.ip,
                        name: &v.name,
                        source: v.source.name(),
                        count: v.tally.count,
                        first_seen: (v.source != EvidenceSource::HostsFile)
                            .then(|| v.tally.first_seen.to_rfc3339()),
                        chosen: v.chosen,
                    })
                    .collect(),
            };
            if serde_json::to_writer(&mut *out, &line).is_ok() {
                out.push(b'\n');
            }
        }
    }
}

/// One row of a `--hosts` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsRow {
    /// The address.
    pub ip: IpAddr,
    /// The name, normalised.
    pub name: crate::model::host::NormalName,
    /// The role, when given.
    pub role: Option<Role>,
    /// One-based line number.
    pub line: u64,
}

/// A parsed `--hosts` file.
#[derive(Debug, Clone, Default)]
pub struct HostsFile {
    /// Rows with an address.
    pub rows: Vec<HostsRow>,
    /// Rows `,name[,role]` naming a host (and maybe its role) without an address.
    pub named_only: Vec<(String, Option<Role>)>,
    /// Bad rows, by reason, with line numbers.
    pub diag: Diagnostics,
}

/// Parses a `--hosts` CSV file: `ip,name[,role]` per line, `#` starts a
/// comment, blank lines are ignored, a first row `ip,name[,role]` is a header.
/// Bad rows are skipped and counted in [`HostsFile::diag`] with their
/// line numbers. A name may also be given without an address: `,name,role`.
pub fn parse_hosts_file(text: &str, file: &Arc<str>) -> HostsFile {
    let mut rows = Vec::new();
    let mut named_only = Vec::new();
    let mut diag = Diagnostics::default();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let origin = || Origin {
            file: file.clone(),
            at: Position::Line(line_no),
        };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        let was_first = std::mem::replace(&mut first, false);
        if was_first
            && fields.first().is_some_and(|f| f.eq_ignore_ascii_case("ip"))
            && fields
                .get(1)
                .is_some_and(|f| f.eq_ignore_ascii_case("name"))
        {
            continue;
        }
        if !(2..=3).contains(&fields.len()) {
            diag.skip("hosts file: not ip,name[,role]", origin, || raw.to_string());
            continue;
        }
        let (ip_text, name_text) = (
            fields.first().copied().unwrap_or(""),
            fields.get(1).copied().unwrap_or(""),
        );
        let Some(name) = normalize_name(name_text) else {
            diag.skip("hosts file: not a host name", origin, || {
                name_text.to_string()
            });
            continue;
        };
        let role = match fields.get(2).filter(|r| !r.is_empty()) {
            Some(r) => match r.parse::<Role>() {
                Ok(role) => Some(role),
                Err(e) => {
                    diag.skip("hosts file: unknown role", origin, || e.to_string());
                    continue;
                }
            },
            None => None,
        };
        if ip_text.is_empty() {
            named_only.push((name.short.to_string(), role));
            continue;
        }
        let Some(ip) = parse_ip(ip_text) else {
            diag.skip("hosts file: not an IP address", origin, || {
                ip_text.to_string()
            });
            continue;
        };
        rows.push(HostsRow {
            ip,
            name,
            role,
            line: line_no,
        });
    }
    HostsFile {
        rows,
        named_only,
        diag,
    }
}

/// Largest `--hosts` file read (256 MiB: millions of rows).
pub const MAX_HOSTS_FILE: u64 = 256 << 20;

/// Reads and parses a `--hosts` file (see [`parse_hosts_file`]). Invalid
/// UTF-8 is replaced, so a bad byte only spoils its own row. A directory,
/// a device or a file over [`MAX_HOSTS_FILE`] bytes is refused.
pub fn read_hosts_file(path: &std::path::Path) -> Result<HostsFile, crate::Error> {
    let bytes = crate::error::read_capped(path, MAX_HOSTS_FILE, "a hosts file")?;
    let text = String::from_utf8_lossy(&bytes);
    let name: Arc<str> = Arc::from(path.display().to_string());
    Ok(parse_hosts_file(&text, &name))
}

/// Builds the directory from events (in parallel: one builder per chunk,
/// merged) and an optional hosts file. The result does not depend on the
/// order of `events` or the thread count.
pub fn build_directory(events: &[LogEvent], file: Option<&HostsFile>) -> HostDirectory {
    let mut b = builder_of(events);
    if let Some(f) = file {
        b.add_file(f);
    }
    b.finish()
}

/// The evidence of `events`, collected in parallel.
fn builder_of(events: &[LogEvent]) -> DirectoryBuilder {
    use rayon::prelude::*;
    let threads = rayon::current_num_threads().max(1);
    let chunk = crate::model::parallel::per_thread(events.len());
    let observe_all = |mut b: DirectoryBuilder, events: &[LogEvent]| {
        for e in events {
            b.observe(e);
        }
        b
    };
    let merge = |mut a: DirectoryBuilder, b: DirectoryBuilder| {
        a.merge(b);
        a
    };
    if threads > 1 && chunk >= events.len() {
        // Too few events to split by chunk, where every builder would meet
        // (and normalise) every host: each builder reads every event but
        // takes only the spellings of its share.
        (0..threads)
            .into_par_iter()
            .map(|part| observe_all(DirectoryBuilder::share(part, threads), events))
            .reduce(DirectoryBuilder::new, merge)
    } else {
        events
            .par_chunks(chunk)
            .fold(DirectoryBuilder::new, observe_all)
            .reduce(DirectoryBuilder::new, merge)
    }
}

/// Builds the directory as [`build_directory`] does, then ties the names
/// hosts' logs give themselves and their dual-stack clients to the
/// addresses `flows` saw for the same sessions ([`session`]).
pub fn build_directory_tied(
    events: &[LogEvent],
    flows: &[crate::model::event::Flow],
    file: Option<&HostsFile>,
) -> HostDirectory {
    let stubs: Vec<session::SessionFlow> =
        flows.iter().filter_map(session::SessionFlow::of).collect();
    build_directory_sessions(events, &stubs, file)
}

/// As [`build_directory_tied`], from the logon-port connections only
/// ([`session::SessionFlow::of`]).
pub fn build_directory_sessions(
    events: &[LogEvent],
    sessions: &[session::SessionFlow],
    file: Option<&HostsFile>,
) -> HostDirectory {
    if sessions.is_empty() {
        return build_directory(events, file);
    }
    let mut sightings = session::Sightings::new();
    for e in events {
        sightings.observe(e);
    }
    if sightings.is_empty() {
        return build_directory(events, file);
    }
    let mut b = builder_of(events);
    b.tie_sessions(sightings, sessions);
    if let Some(f) = file {
        b.add_file(f);
    }
    b.finish()
}

/// An IPv4-mapped IPv6 address as the IPv4 address it maps.
fn normalise_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// What is known about one name before resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NameInfo {
    fqdns: BTreeSet<String>,
    role: Option<Role>,
}

/// A name's first eight bytes as a big-endian number (zero-padded): names
/// whose prefixes differ sort as their prefixes do.
pub(crate) fn name_prefix(name: &str) -> u64 {
    let mut buf = [0u8; 8];
    for (slot, b) in buf.iter_mut().zip(name.bytes()) {
        *slot = b;
    }
    u64::from_be_bytes(buf)
}

/// Collects host evidence; mergeable, so it can run per input in parallel.
/// [`DirectoryBuilder::finish`] resolves it into a [`HostDirectory`].
#[derive(Debug, Clone, Default)]
pub struct DirectoryBuilder {
    /// (ip, short name, source) -> tally (hashed while collecting; sorted
    /// by [`DirectoryBuilder::finish`]).
    pairs: FxHashMap<(IpAddr, Text, EvidenceSource), Tally>,
    /// Every name seen, with its FQDNs.
    names: FxHashMap<Text, NameInfo>,
    /// Hosts-file mapping: ip -> (short name), first row for an IP wins.
    file_ips: BTreeMap<IpAddr, Text>,
    /// Name spellings met so far -> their short name (`None`: not a host
    /// name), each already noted in `names`: a spelling seen again is
    /// neither normalised nor noted again (a cache, not evidence).
    spellings: FxHashMap<Text, Option<Text>>,
    /// `(part, parts)`: this builder takes only the name spellings whose
    /// hash falls in `part` of `parts` (see [`DirectoryBuilder::share`]).
    share: Option<(u64, u64)>,
}

/// Equal when the evidence is (the spelling cache is not evidence).
impl PartialEq for DirectoryBuilder {
    fn eq(&self, other: &Self) -> bool {
        self.pairs == other.pairs && self.names == other.names && self.file_ips == other.file_ips
    }
}

impl Eq for DirectoryBuilder {}

impl DirectoryBuilder {
    /// An empty builder.
    pub fn new() -> DirectoryBuilder {
        DirectoryBuilder::default()
    }

    /// An empty builder for share `part` of `parts` of the name spellings:
    /// builders of every share, each fed every event, merge to what one
    /// builder fed them all gives (each spelling met by exactly one).
    pub fn share(part: usize, parts: usize) -> DirectoryBuilder {
        DirectoryBuilder {
            share: Some((part as u64, parts.max(1) as u64)),
            ..DirectoryBuilder::default()
        }
    }

    fn takes(&self, raw: &str) -> bool {
        match self.share {
            None => true,
            Some((part, parts)) => {
                use std::hash::BuildHasher;
                rustc_hash::FxBuildHasher.hash_one(raw) % parts == part
            }
        }
    }

    fn note_name(&mut self, n: &crate::model::host::NormalName) {
        // Most names recur: look up before allocating a key.
        let info = match self.names.get_mut(&n.short) {
            Some(info) => info,
            None => self.names.entry(n.short.clone()).or_default(),
        };
        if let Some(f) = &n.fqdn
            && !info.fqdns.contains(f)
        {
            info.fqdns.insert(f.clone());
        }
    }

    /// The short name of a spelling, noting the name (and its FQDN) the
    /// first time the spelling is met; `None` when it is not a host name.
    fn noted_short(&mut self, raw: &str) -> Option<Text> {
        if !self.takes(raw) {
            return None;
        }
        if let Some(known) = self.spellings.get(raw) {
            return known.clone();
        }
        let short = normalize_name(raw).map(|n| {
            self.note_name(&n);
            n.short
        });
        self.spellings.insert(Text::from(raw), short.clone());
        short
    }

    fn pair(&mut self, ip: IpAddr, raw_name: &str, source: EvidenceSource, ts: Timestamp) {
        let Some(short) = self.noted_short(raw_name) else {
            return;
        };
        let ip = normalise_ip(ip);
        if ip.is_loopback() || ip.is_unspecified() {
            return;
        }
        let t = Tally {
            count: 1,
            first_seen: ts,
        };
        self.pairs
            .entry((ip, short, source))
            .and_modify(|x| x.add(t))
            .or_insert(t);
    }

    fn name_only(&mut self, raw: Option<&str>) {
        if let Some(raw) = raw {
            self.noted_short(raw);
        }
    }

    /// Takes whatever (IP, name) evidence one event carries (see the module docs).
    pub fn observe(&mut self, e: &LogEvent) {
        let ts = e.ts;
        let code = e.code.unwrap_or(0);
        let windows = e.dataset.starts_with("windows");
        if e.action == Action::DnsAnswer {
            if let (Some(ip), Some(name)) = (e.destination_ip, e.destination_domain.as_deref()) {
                if names_by_dns(ip) {
                    self.pair(ip, name, EvidenceSource::Dns, ts);
                }
            } else if let Some(name) = e.dns_question() {
                // Zeek dns.log: the question with its address answers.
                for ip in e.dns_answers().filter_map(parse_ip) {
                    if names_by_dns(ip) {
                        self.pair(ip, name, EvidenceSource::Dns, ts);
                    }
                }
            }
        } else if windows && matches!(code, 4624 | 4625) {
            if let (Some(ip), Some(name)) = (e.source_ip, e.source_domain.as_deref()) {
                self.pair(ip, name, EvidenceSource::WindowsLogon, ts);
            }
        } else if windows && matches!(code, 4768 | 4769 | 4771) {
            if let (Some(ip), Some(user)) = (e.source_ip, e.user_name.as_deref())
                && user.ends_with('$')
            {
                self.pair(ip, user, EvidenceSource::Kerberos, ts);
            }
        } else if e.dataset == "windows.sysmon" {
            if let (Some(ip), Some(name)) = (e.source_ip, e.source_domain.as_deref()) {
                self.pair(ip, name, EvidenceSource::Sysmon, ts);
            }
            if let (Some(ip), Some(name)) = (e.destination_ip, e.destination_domain.as_deref()) {
                self.pair(ip, name, EvidenceSource::Sysmon, ts);
            }
            if let Some(writer) = e.host_name.as_deref() {
                for ip in [e.source_ip, e.destination_ip].into_iter().flatten() {
                    self.pair(ip, writer, EvidenceSource::SysmonWriter, ts);
                }
            }
        }
        if let (Some(ip), Some(name)) = (e.host_ip, e.host_name.as_deref()) {
            self.pair(ip, name, EvidenceSource::HostRecord, ts);
        }
        self.name_only(e.host_name.as_deref());
        if e.action != Action::DnsAnswer && e.action != Action::ExplicitCredentialLogon {
            self.name_only(e.source_domain.as_deref());
        }
    }

    /// Adds the rows of a hosts file (see [`parse_hosts_file`]). File rows
    /// beat any data; for an IP listed twice, the first row wins.
    pub fn add_file(&mut self, file: &HostsFile) {
        for r in &file.rows {
            self.note_name(&r.name);
            if let Some(role) = r.role {
                let info = self.names.entry(r.name.short.clone()).or_default();
                info.role.get_or_insert(role);
            }
            self.file_ips
                .entry(r.ip)
                .or_insert_with(|| r.name.short.clone());
            let t = Tally {
                count: 1,
                first_seen: Timestamp::default(),
            };
            self.pairs
                .entry((r.ip, r.name.short.clone(), EvidenceSource::HostsFile))
                .and_modify(|x| x.add(t))
                .or_insert(t);
        }
        for (name, role) in &file.named_only {
            let info = self.names.entry(Text::from(name.as_str())).or_default();
            if let Some(role) = role {
                info.role.get_or_insert(*role);
            }
        }
    }

    /// Adds what session timing ([`session`]) says: `sightings` (what
    /// hosts' logs recorded) against the logon-port connections `flows`.
    pub fn tie_sessions(&mut self, sightings: session::Sightings, flows: &[session::SessionFlow]) {
        if sightings.is_empty() {
            return;
        }
        // The addresses data already gives each name.
        let mut known: FxHashMap<&str, Vec<IpAddr>> = FxHashMap::default();
        for (ip, name, source) in self.pairs.keys() {
            if !matches!(
                source,
                EvidenceSource::SysmonWriter | EvidenceSource::SessionTiming
            ) {
                known.entry(name.as_str()).or_default().push(*ip);
            }
        }
        let ties = sightings.ties(flows, &|name: &str| {
            known.get(name).cloned().unwrap_or_default()
        });
        for t in ties {
            self.pair(
                t.ip,
                t.name.as_str(),
                EvidenceSource::SessionTiming,
                t.first,
            );
            if let Some(x) = self.pairs.get_mut(&(
                normalise_ip(t.ip),
                t.name.clone(),
                EvidenceSource::SessionTiming,
            )) {
                x.count = x.count.max(t.votes);
            }
        }
    }

    /// Folds another builder's evidence into this one (order-independent,
    /// except that a hosts file should be added to one builder only). The
    /// result takes every spelling, whatever shares the two took.
    pub fn merge(&mut self, mut other: DirectoryBuilder) {
        // Fold the smaller into the larger: the result is the same either way.
        if other.pairs.len() + other.names.len() > self.pairs.len() + self.names.len() {
            std::mem::swap(self, &mut other);
        }
        for (k, t) in other.pairs {
            self.pairs.entry(k).and_modify(|x| x.add(t)).or_insert(t);
        }
        for (name, info) in other.names {
            let mine = self.names.entry(name).or_default();
            mine.fqdns.extend(info.fqdns);
            if mine.role.is_none() {
                mine.role = info.role;
            }
        }
        for (ip, n) in other.file_ips {
            self.file_ips.entry(ip).or_insert(n);
        }
        // Holding more than one share, it takes every spelling from now on.
        self.share = None;
    }

    /// Resolves the evidence: each IP goes to one name (hosts file, else most
    /// records, then earliest, then smallest name); every name becomes a host.
    pub fn finish(self) -> HostDirectory {
        use rayon::prelude::*;
        let mut pairs: Vec<((IpAddr, Text, EvidenceSource), Tally)> =
            self.pairs.into_iter().collect();
        pairs.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        // Per IP (ascending): the names data sources give it, each with
        // its tally summed over those sources, by name. Pairs are sorted by
        // IP then name, so each IP's names come together and in order.
        let mut strong: Vec<(IpAddr, Vec<(&str, Tally)>)> = Vec::new();
        let mut weak: Vec<(IpAddr, &str, Tally)> = Vec::new();
        let mut timed: Vec<(IpAddr, Vec<(&str, Tally)>)> = Vec::new();
        for ((ip, name, source), t) in &pairs {
            match source {
                EvidenceSource::HostsFile => {}
                EvidenceSource::SessionTiming => {
                    if timed.last().is_none_or(|(i, _)| i != ip) {
                        timed.push((*ip, Vec::new()));
                    }
                    if let Some((_, names)) = timed.last_mut() {
                        names.push((name.as_str(), *t));
                    }
                }
                EvidenceSource::SysmonWriter => match weak.last_mut() {
                    Some((i, n, sum)) if i == ip && *n == name.as_str() => sum.add(*t),
                    _ => weak.push((*ip, name.as_str(), *t)),
                },
                _ => {
                    if strong.last().is_none_or(|(i, _)| i != ip) {
                        strong.push((*ip, Vec::new()));
                    }
                    if let Some((_, names)) = strong.last_mut() {
                        match names.last_mut() {
                            Some((n, sum)) if *n == name.as_str() => sum.add(*t),
                            _ => names.push((name.as_str(), *t)),
                        }
                    }
                }
            }
        }
        let best = |names: &[(&str, Tally)]| -> Option<Text> {
            names
                .iter()
                .min_by(|(na, ta), (nb, tb)| {
                    tb.count
                        .cmp(&ta.count)
                        .then(ta.first_seen.cmp(&tb.first_seen))
                        .then(na.cmp(nb))
                })
                .map(|(n, _)| Text::from(*n))
        };
        let mut by_ip: BTreeMap<IpAddr, HostKey> = strong
            .iter()
            .filter_map(|(ip, names)| Some((*ip, HostKey::Name(best(names)?))))
            .collect();
        // Session timing names an address no data names (a host may have
        // several addresses: a name it already has is no obstacle).
        for (ip, names) in &timed {
            if by_ip.contains_key(ip) || self.file_ips.contains_key(ip) {
                continue;
            }
            if let Some(name) = best(names) {
                by_ip.insert(*ip, HostKey::Name(name));
            }
        }
        // Weak evidence, as a greedy matching: strongest (ip, name) pairs
        // first (most records, then earliest, then name, then address), each
        // address and each name matched at most once, never an address or a
        // name that strong evidence already places.
        if !weak.is_empty() {
            let mut named: FxHashSet<&str> = strong
                .iter()
                .flat_map(|(_, names)| names.iter().map(|(n, _)| *n))
                .collect();
            named.extend(self.file_ips.values().map(Text::as_str));
            weak.sort_by(|a, b| {
                b.2.count
                    .cmp(&a.2.count)
                    .then(a.2.first_seen.cmp(&b.2.first_seen))
                    .then(a.1.cmp(b.1))
                    .then(a.0.cmp(&b.0))
            });
            for (ip, name, _) in weak {
                if by_ip.contains_key(&ip)
                    || self.file_ips.contains_key(&ip)
                    || named.contains(name)
                {
                    continue;
                }
                named.insert(name);
                by_ip.insert(ip, HostKey::Name(Text::from(name)));
            }
        }
        for (ip, name) in &self.file_ips {
            by_ip.insert(*ip, HostKey::Name(name.clone()));
        }
        // Every name is a host: built in key order, then collected (a
        // sorted run builds the map in one pass). Names sort by their first
        // eight bytes, then in full where those are equal.
        let mut named: Vec<(u64, Text, NameInfo)> = self
            .names
            .into_iter()
            .map(|(name, info)| (name_prefix(&name), name, info))
            .collect();
        named.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut entries: Vec<HostEntry> = named
            .into_iter()
            .map(|(_, name, info)| {
                let mut names = Vec::with_capacity(1 + info.fqdns.len());
                names.push(String::from(name.as_str()));
                names.extend(info.fqdns);
                HostEntry {
                    key: HostKey::Name(name),
                    ips: Vec::new(),
                    names,
                    role: info.role,
                    evidence: Vec::new(),
                }
            })
            .collect();
        // Keys are inline text: the index owns copies and leaves the
        // entries free to fill.
        let index: FxHashMap<Text, usize> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((Text::from(e.key.name()?), i)))
            .collect();
        for (ip, key) in &by_ip {
            let Some(name) = key.name() else { continue };
            if let Some(e) = index.get(name).and_then(|&i| entries.get_mut(i)) {
                e.ips.push(*ip);
            }
        }
        // Pairs and `by_ip` are both in address order: walk them together
        // to tell whether each pair's name won its address.
        let mut winners = by_ip.iter().peekable();
        for ((ip, name, source), tally) in pairs {
            while winners.next_if(|(w, _)| **w < ip).is_some() {}
            let chosen = winners
                .peek()
                .is_some_and(|(w, k)| **w == ip && k.name() == Some(name.as_str()));
            if let Some(e) = index.get(&name).and_then(|&i| entries.get_mut(i)) {
                e.evidence.push(Evidence {
                    ip,
                    name,
                    source,
                    tally,
                    chosen,
                });
            }
        }
        let hosts = entries.into_iter().map(|e| (e.key.clone(), e)).collect();
        HostDirectory { hosts, by_ip }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::host::{could_be_ip, ip_text};

    #[test]
    fn address_text_matches_display_and_names_skip_the_address_parser() {
        for a in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.0.17",
            "99.100.109.110",
            "255.255.255.255",
            "192.168.1.200",
            "::1",
            "fe80::1",
            "2001:db8::8:800:200c:417a",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(ip_text(ip).to_string(), ip.to_string(), "{a}");
            assert_eq!(HostKey::from_ip(ip).ip(), Some(ip), "{a}");
            assert!(could_be_ip(a), "{a}");
        }
        for n in ["ws-017", "files", "a1.corp", "dead:beef"] {
            assert_eq!(could_be_ip(n), n.contains(':'), "{n}");
            assert!(
                HostKey::from_name(n).is_none_or(|k| k.ip().is_none()),
                "{n}"
            );
        }
        // Digits-and-dots text that is no address is still a name.
        assert_eq!(
            HostKey::from_name("1.2.3").map(|k| k.is_named()),
            Some(true)
        );
        assert_eq!(parse_ip("[::ffff:10.0.0.1]"), Some(ip("10.0.0.1")));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn names_normalise_to_one_key() {
        let k = HostKey::from_name("WS-017").unwrap();
        for spelling in [
            "ws-017",
            "WS-017$",
            "ws-017.shugiin.local",
            "WS-017.SHUGIIN.LOCAL.",
            "SHUGIIN\\WS-017",
            "\\\\WS-017",
            " WS-017 ",
        ] {
            assert_eq!(
                HostKey::from_name(spelling).as_ref(),
                Some(&k),
                "{spelling}"
            );
        }
        assert_eq!(k.to_string(), "ws-017");
        assert_eq!(
            normalize_name("ws-017.shugiin.local")
                .unwrap()
                .fqdn
                .as_deref(),
            Some("ws-017.shugiin.local")
        );
        for bad in [
            "",
            "-",
            "localhost",
            "has space",
            "a/b",
            "$",
            "LOCALHOST.localdomain",
        ] {
            assert_eq!(HostKey::from_name(bad), None, "{bad:?}");
        }
        assert_eq!(
            HostKey::from_name("10.0.0.5").unwrap().ip(),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            HostKey::from_name("::ffff:10.0.0.5").unwrap().to_string(),
            "10.0.0.5"
        );
    }

    fn logon(ts: i64, addr: &str, ws: &str) -> LogEvent {
        LogEvent {
            ts: Timestamp::from_parts(ts, 0),
            code: Some(4624),
            dataset: "windows.security".into(),
            action: Action::LoggedIn,
            source_ip: Some(ip(addr)),
            source_domain: Some(ws.into()),
            host_name: Some("SRV-CHAMBER.shugiin.local".into()),
            ..LogEvent::default()
        }
    }

    #[test]
    fn dns_names_only_private_addresses() {
        let mut b = DirectoryBuilder::new();
        for (name, addr) in [
            ("www.example.com", "198.51.100.7"),
            ("www.example.org", "198.51.100.8"),
            ("intranet.corp.local", "10.0.0.80"),
            ("files.corp.local", "fd00::20"),
        ] {
            b.observe(&LogEvent {
                action: Action::DnsAnswer,
                destination_domain: Some(name.into()),
                destination_ip: Some(ip(addr)),
                ..LogEvent::default()
            });
        }
        let d = b.finish();
        assert_eq!(d.key_for_ip(ip("198.51.100.7")).to_string(), "198.51.100.7");
        assert_eq!(d.key_for_ip(ip("198.51.100.8")).to_string(), "198.51.100.8");
        assert_eq!(d.key_for_ip(ip("10.0.0.80")).to_string(), "intranet");
        assert_eq!(d.key_for_ip(ip("fd00::20")).to_string(), "files");
    }

    #[test]
    fn zeek_dns_records_name_their_answers() {
        let mut b = DirectoryBuilder::new();
        // Zeek's shape: destination is the resolver, answers are text.
        let mut e = LogEvent {
            action: Action::DnsAnswer,
            dataset: "zeek.dns".into(),
            destination_ip: Some(ip("10.0.0.53")),
            ..LogEvent::default()
        };
        e.set_dns_question(Some("fs01.corp.local".into()));
        e.push_dns_answer("fs01-alias.corp.local".into());
        e.push_dns_answer("10.0.0.20".into());
        b.observe(&e);
        let d = b.finish();
        assert_eq!(d.key_for_ip(ip("10.0.0.20")).to_string(), "fs01");
        assert_eq!(d.key_for_ip(ip("10.0.0.53")).to_string(), "10.0.0.53");
    }

    /// Many spellings, sources and conflicts for 300 hosts.
    fn varied_events() -> Vec<LogEvent> {
        let mut out = Vec::new();
        for i in 0..300u32 {
            let addr = format!("10.1.{}.{}", i / 200, i % 200 + 1);
            let spelling = match i % 3 {
                0 => format!("WS-{i}"),
                1 => format!("ws-{i}.corp.local"),
                _ => format!("CORP\\WS-{i}$"),
            };
            out.push(logon(i64::from(i), &addr, &spelling));
            // Every seventh address is also claimed by a rival name.
            if i % 7 == 0 {
                out.push(logon(i64::from(i) + 1, &addr, &format!("rival-{}", i % 5)));
            }
            out.push(LogEvent {
                ts: Timestamp::from_parts(i64::from(i) + 2, 0),
                action: Action::DnsAnswer,
                destination_domain: Some(format!("ws-{i}.corp.local").into()),
                destination_ip: Some(ip(&addr)),
                ..LogEvent::default()
            });
            out.push(LogEvent {
                ts: Timestamp::from_parts(i64::from(i) + 3, 0),
                dataset: "windows.sysmon".into(),
                action: Action::NetworkConnection,
                host_name: Some(format!("SRV-{}", i % 11).into()),
                source_ip: Some(ip(&format!("10.2.0.{}", i % 11 + 1))),
                destination_ip: Some(ip(&addr)),
                ..LogEvent::default()
            });
        }
        out
    }

    #[test]
    fn builders_of_every_share_merge_to_one_builder() {
        let events = varied_events();
        let mut one = DirectoryBuilder::new();
        for e in &events {
            one.observe(e);
        }
        let one = one.finish();
        assert!(one.len() > 300, "{}", one.len());
        for parts in [2usize, 3] {
            let mut shares: Vec<DirectoryBuilder> = (0..parts)
                .map(|part| {
                    let mut b = DirectoryBuilder::share(part, parts);
                    for e in &events {
                        b.observe(e);
                    }
                    b
                })
                .collect();
            // Every share holds some spellings, and none holds them all.
            assert!(
                shares
                    .iter()
                    .all(|b| !b.names.is_empty() && b.names.len() < 400)
            );
            shares.reverse();
            let mut merged = DirectoryBuilder::new();
            for b in shares {
                merged.merge(b);
            }
            assert!(merged.finish() == one, "{parts} shares");
        }
        assert!(build_directory(&events, None) == one);
    }

    #[test]
    fn one_identity_across_sources() {
        let mut b = DirectoryBuilder::new();
        b.observe(&logon(100, "10.0.0.17", "WS-017"));
        b.observe(&LogEvent {
            ts: Timestamp::from_parts(50, 0),
            code: Some(4768),
            dataset: "windows.security".into(),
            action: Action::KerberosTgtRequest,
            source_ip: Some(ip("::ffff:10.0.0.17")),
            user_name: Some("WS-017$".into()),
            host_name: Some("dc01".into()),
            ..LogEvent::default()
        });
        b.observe(&LogEvent {
            action: Action::DnsAnswer,
            destination_domain: Some("ws-017.shugiin.local".into()),
            destination_ip: Some(ip("10.0.0.17")),
            ..LogEvent::default()
        });
        let d = b.finish();
        let k = d.key_for_ip(ip("10.0.0.17"));
        assert_eq!(k.to_string(), "ws-017");
        assert_eq!(d.key_for_name("SHUGIIN\\WS-017$"), Some(k.clone()));
        assert_eq!(d.key_for_name("10.0.0.17"), Some(k.clone()));
        assert_eq!(d.ips_of(&k), vec![ip("10.0.0.17")]);
        assert_eq!(d.names_of(&k), vec!["ws-017", "ws-017.shugiin.local"]);
        let e = d.get(&k).unwrap();
        let sources: Vec<_> = e
            .evidence
            .iter()
            .map(|v| (v.source, v.tally.count))
            .collect();
        assert_eq!(
            sources,
            vec![
                (EvidenceSource::WindowsLogon, 1),
                (EvidenceSource::Kerberos, 1),
                (EvidenceSource::Dns, 1)
            ]
        );
        // Hosts named only by the records they wrote are known too.
        assert!(d.get(&HostKey::from_name("srv-chamber").unwrap()).is_some());
        assert!(d.get(&HostKey::from_name("dc01").unwrap()).is_some());
        // An unknown address is its own host.
        assert_eq!(d.key_for_ip(ip("10.9.9.9")).to_string(), "10.9.9.9");
        assert_eq!(
            d.ips_of(&HostKey::from_ip(ip("10.9.9.9"))),
            vec![ip("10.9.9.9")]
        );
    }

    #[test]
    fn conflicts_resolve_deterministically() {
        // 10.0.0.50 is named ws-a twice (later) and ws-b once (earlier): most evidence wins.
        let evs = [
            logon(300, "10.0.0.50", "ws-a"),
            logon(400, "10.0.0.50", "ws-a"),
            logon(100, "10.0.0.50", "ws-b"),
            // A tie on count: earliest wins.
            logon(20, "10.0.0.60", "ws-d"),
            logon(10, "10.0.0.60", "ws-c"),
            // A tie on count and time: smallest name wins.
            logon(5, "10.0.0.70", "ws-f"),
            logon(5, "10.0.0.70", "ws-e"),
        ];
        let mut forward = DirectoryBuilder::new();
        for e in &evs {
            forward.observe(e);
        }
        // Same evidence split over two builders, in reverse order.
        let (mut x, mut y) = (DirectoryBuilder::new(), DirectoryBuilder::new());
        for (i, e) in evs.iter().rev().enumerate() {
            if i % 2 == 0 {
                x.observe(e)
            } else {
                y.observe(e)
            }
        }
        y.merge(x);
        assert_eq!(forward, y);
        let d = forward.finish();
        assert_eq!(d.key_for_ip(ip("10.0.0.50")).to_string(), "ws-a");
        assert_eq!(d.key_for_ip(ip("10.0.0.60")).to_string(), "ws-c");
        assert_eq!(d.key_for_ip(ip("10.0.0.70")).to_string(), "ws-e");
        let b = d.get(&HostKey::from_name("ws-b").unwrap()).unwrap();
        assert!(b.ips.is_empty());
        assert_eq!(b.evidence.len(), 1);
        assert!(!b.evidence[0].chosen);
        assert!(
            d.get(&HostKey::from_name("ws-a").unwrap())
                .unwrap()
                .evidence[0]
                .chosen
        );
    }

    #[test]
    fn sysmon_writers_name_addresses_by_best_match() {
        let conn = |writer: &str, src: &str, dst: &str| LogEvent {
            dataset: "windows.sysmon".into(),
            action: Action::NetworkConnection,
            code: Some(3),
            host_name: Some(writer.into()),
            source_ip: Some(ip(src)),
            destination_ip: Some(ip(dst)),
            ..LogEvent::default()
        };
        let mut b = DirectoryBuilder::new();
        // ws5 (.5) talks to ws6 (.6) and twice to the DC (.9); ws6 logs the one connection.
        b.observe(&conn("WS5", "10.0.0.5", "10.0.0.6"));
        b.observe(&conn("WS5", "10.0.0.5", "10.0.0.9"));
        b.observe(&conn("WS5", "10.0.0.5", "10.0.0.9"));
        b.observe(&conn("WS6", "10.0.0.5", "10.0.0.6"));
        // The DC's address is named by a logon record: strong evidence keeps it.
        b.observe(&logon(1, "10.0.0.9", "DC01"));
        let d = b.finish();
        assert_eq!(d.key_for_ip(ip("10.0.0.5")).to_string(), "ws5");
        assert_eq!(d.key_for_ip(ip("10.0.0.6")).to_string(), "ws6");
        assert_eq!(d.key_for_ip(ip("10.0.0.9")).to_string(), "dc01");
    }

    #[test]
    fn hosts_file_beats_data_and_counts_bad_rows() {
        let text = "ip,name,role\n# the chamber\n10.0.0.50, FILESRV ,server\n10.0.0.9,dc01.shugiin.local,dc # primary\nnot-an-ip,x\n10.0.0.8\n10.0.0.7,bad name\n10.0.0.6,ok,printer\n,jump01,jump\n\n";
        let file: Arc<str> = Arc::from("hosts.csv");
        let parsed = parse_hosts_file(text, &file);
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(
            parsed.named_only,
            vec![("jump01".to_string(), Some(Role::AdminHost))]
        );
        assert_eq!(parsed.diag.total(), 4);
        let lines: Vec<String> = parsed
            .diag
            .samples
            .values()
            .flatten()
            .map(|s| s.origin.to_string())
            .collect();
        let mut lines = lines;
        lines.sort();
        assert_eq!(
            lines,
            vec!["hosts.csv:5", "hosts.csv:6", "hosts.csv:7", "hosts.csv:8"]
        );
        let mut b = DirectoryBuilder::new();
        for _ in 0..10 {
            b.observe(&logon(1, "10.0.0.50", "ws-a"));
        }
        b.add_file(&parsed);
        let d = b.finish();
        let k = d.key_for_ip(ip("10.0.0.50"));
        assert_eq!(k.to_string(), "filesrv");
        assert_eq!(d.given_role(&k), Some(Role::Server));
        let dc = d.key_for_name("DC01").unwrap();
        assert_eq!(d.given_role(&dc), Some(Role::DomainController));
        assert_eq!(d.names_of(&dc), vec!["dc01", "dc01.shugiin.local"]);
        assert_eq!(
            d.given_role(&d.key_for_name("jump01").unwrap()),
            Some(Role::AdminHost)
        );
        let mut out = Vec::new();
        d.write_jsonl(&mut out);
        let text = String::from_utf8(out).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["host.key"], "dc01");
        assert_eq!(first["host.type"], "domain_controller");
        assert_eq!(first["host.ip"][0], "10.0.0.9");
        // The directory round-trips through serde.
        let bytes = postcard::to_allocvec(&d).unwrap();
        let back: HostDirectory = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, d);
    }
}
