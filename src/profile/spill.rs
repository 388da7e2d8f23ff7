//! `--memory-limit`: the learning builders' state spilled to disk in
//! sorted runs and merged back by key.
//!
//! A [`ProfileBuilder`] keeps its state by interned indices. When its
//! [`ProfileBuilder::estimated_bytes`] passes its share of the limit
//! ([`Spiller::check`]), its state is written as a *run*: every host's
//! record (its profile before the finish, its addresses, and everything
//! keyed by it as the source: hour cells, admin hours, edges, admin use,
//! edge hours), with the other hosts and the services named by value, in
//! host-key order (the order of the baseline file), and every account's
//! record (its info, the hours it logged on to hosts, its logon triples)
//! in name order. The builder then starts empty. Everything in a record
//! merges exactly (counts add, sets unite, maxima take the larger; the
//! per-hour state stays open until the end), so [`Spiller::finish`], a
//! k-way merge of the runs by key, gives the very [`Profiles`] that one
//! builder fed everything gives. Runs are merged [`FAN_IN`] at a time
//! (more runs are first merged into longer ones).
//!
//! The runs live in a fresh directory (under the system's temporary
//! directory or the one given), removed when the [`Spiller`] is dropped,
//! on success or error.

use crate::hosts::{HostDirectory, HostKey};
use crate::model::{AdminService, Service};
use crate::profile::build::{HourCell, NO_HOST, ProfileBuilder, finish_hosts};
use crate::profile::edge::EdgeStats;
use crate::profile::host::HostProfile;
use crate::profile::logon::LogonStats;
use crate::profile::role::RoleThresholds;
use crate::profile::week::WeekHours;
use crate::profile::{
    AdminStats, AdminUse, Edge, EdgeHours, HostId, Logon, Profiles, ServiceId, UserId, UserInfo,
    note_sid,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Runs merged at once; more are first merged into longer runs.
pub const FAN_IN: usize = 32;

/// Why spilling failed.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    /// The spill directory could not be made.
    #[error("cannot make a spill directory in {dir}", dir = dir.display())]
    Dir {
        /// Where it was to be made.
        dir: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A run could not be written (disk full, removed directory).
    #[error("cannot write spill run {path}", path = path.display())]
    Write {
        /// The run file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A run could not be read back, or does not decode.
    #[error("cannot read spill run {path}: {what}", path = path.display())]
    Read {
        /// The run file.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
}

impl SpillError {
    /// As an I/O error whose message says it all (the kind of a write's
    /// cause kept), for callers that report `std::io::Error`.
    pub fn into_io(self) -> std::io::Error {
        match self {
            SpillError::Write { path, source } => std::io::Error::new(
                source.kind(),
                format!("cannot write spill run {}: {source}", path.display()),
            ),
            e => std::io::Error::other(e.to_string()),
        }
    }
}

/// What spilling did, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpillStats {
    /// The limit, in bytes.
    pub limit: u64,
    /// Runs written by builders (not counting the merges' own runs).
    pub spills: u64,
    /// Bytes written to runs, merges' included.
    pub bytes: u64,
    /// Runs read by the final merge, intermediate merges included.
    pub runs_merged: u64,
}

impl SpillStats {
    /// The `memory limit` line of `--stats` (`baseline build`, `analyze`):
    /// the limit, the builders' share, spills, bytes spilled, runs merged.
    pub fn describe(&self) -> String {
        use crate::stats::human_bytes;
        format!(
            "{} ({} for the profile builders); {} spills, {} spilled, {} runs merged",
            human_bytes(self.limit),
            human_bytes(self.limit / 2),
            self.spills,
            human_bytes(self.bytes),
            self.runs_merged
        )
    }
}

/// Parses a size: a number with an optional `K`, `M`, `G` or `T` suffix
/// (powers of 1024; a trailing `B` or `iB` is accepted), e.g. `512M`,
/// `2G`, `1500000`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("{s:?}: unknown size suffix {c:?} (K, M, G or T)")),
            };
            (t.get(..i).unwrap_or(""), m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512M or 2G"))?;
    let v = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if v == 0 {
        return Err("the memory limit must be above zero".to_string());
    }
    Ok(v)
}

/// Spills builders over their share of a memory limit; see the module docs.
#[derive(Debug)]
pub struct Spiller {
    limit: u64,
    dir: tempfile::TempDir,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    runs: Vec<PathBuf>,
    next: u64,
    stats: SpillStats,
    error: Option<SpillError>,
}

/// One host's record in a run.
#[derive(Debug, Serialize, Deserialize)]
struct HostRec {
    /// Its profile before the finish (the key is in it).
    profile: HostProfile,
    /// Addresses the builder resolved to it.
    ips: Vec<IpAddr>,
    /// (hour, peer (`None`: itself), cell).
    hourly: Vec<(u32, Option<HostKey>, HourCell)>,
    /// (hour, host) of its remote-admin use.
    admin_hours: Vec<(u32, HostKey)>,
    /// (responder, service, stats) of its flows.
    edges: Vec<(HostKey, Service, EdgeStats)>,
    /// (host, protocol, stats) of its remote-admin use from log events.
    admin: Vec<(HostKey, AdminService, AdminStats)>,
    /// (responder, service, hours) of its remote-admin edges.
    edge_hours: Vec<(HostKey, Service, WeekHours)>,
}

/// One account's record in a run.
#[derive(Debug, Serialize, Deserialize)]
struct UserRec {
    info: UserInfo,
    /// (hour, host) of its successful network logons.
    hours: Vec<(u32, HostKey)>,
    /// (source, target, stats) of its logon triples.
    logons: Vec<(Option<HostKey>, HostKey, LogonStats)>,
}

/// A run's record: ordered by key, merged with another of the same key.
trait Rec: Serialize + DeserializeOwned {
    type Key: Ord + Clone;
    fn key(&self) -> &Self::Key;
    /// Folds `o` (same key) in.
    fn absorb(&mut self, o: Self);
    /// Sorts each list and merges its duplicates.
    fn normalize(&mut self);
}

/// Sorts `v` by `key` and merges neighbours with equal keys.
fn sort_merge<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K, merge: impl Fn(&mut T, &T)) {
    v.sort_by_key(&key);
    v.dedup_by(|later, kept| {
        if key(later) == key(kept) {
            merge(kept, later);
            true
        } else {
            false
        }
    });
}

impl Rec for HostRec {
    type Key = HostKey;
    fn key(&self) -> &HostKey {
        &self.profile.key
    }
    fn absorb(&mut self, o: HostRec) {
        self.profile.merge(&o.profile);
        self.ips.extend(o.ips);
        self.hourly.extend(o.hourly);
        self.admin_hours.extend(o.admin_hours);
        self.edges.extend(o.edges);
        self.admin.extend(o.admin);
        self.edge_hours.extend(o.edge_hours);
    }
    fn normalize(&mut self) {
        self.ips.sort();
        self.ips.dedup();
        sort_merge(
            &mut self.hourly,
            |(h, p, _)| (*h, p.clone()),
            |k, l| k.2.add(l.2),
        );
        self.admin_hours.sort();
        self.admin_hours.dedup();
        sort_merge(
            &mut self.edges,
            |(d, s, _)| (d.clone(), s.clone()),
            |k, l| k.2.merge(&l.2),
        );
        sort_merge(
            &mut self.admin,
            |(d, p, _)| (d.clone(), *p),
            |k, l| k.2.merge(&l.2),
        );
        sort_merge(
            &mut self.edge_hours,
            |(d, s, _)| (d.clone(), s.clone()),
            |k, l| k.2.merge(&l.2),
        );
    }
}

impl Rec for UserRec {
    type Key = String;
    fn key(&self) -> &String {
        &self.info.name
    }
    fn absorb(&mut self, o: UserRec) {
        // As `ProfileBuilder::merge` merges an account's info.
        let (mine, u) = (&mut self.info, o.info);
        for d in u.domains {
            if !mine.domains.contains(&d) {
                mine.domains.push(d);
            }
        }
        mine.domains.sort();
        for sid in &u.sids {
            note_sid(&mut mine.sids, sid);
        }
        mine.logon_hours.merge(&u.logon_hours);
        mine.peak_hosts_per_hour = mine.peak_hosts_per_hour.max(u.peak_hosts_per_hour);
        self.hours.extend(o.hours);
        self.logons.extend(o.logons);
    }
    fn normalize(&mut self) {
        self.hours.sort();
        self.hours.dedup();
        sort_merge(
            &mut self.logons,
            |(s, d, _)| (s.clone(), d.clone()),
            |k, l| k.2.merge(&l.2),
        );
    }
}

/// A host's key alone, in a run's `.keys` file: the final merge counts
/// the distinct hosts first and sizes the hosts table once (a table that
/// grew by doubling would hold two copies while it moves).
#[derive(Debug, Serialize, Deserialize)]
struct KeyRec(HostKey);

impl Rec for KeyRec {
    type Key = HostKey;
    fn key(&self) -> &HostKey {
        &self.0
    }
    fn absorb(&mut self, _: KeyRec) {}
    fn normalize(&mut self) {}
}

/// Writes length-prefixed postcard records to a run file.
struct RunWriter {
    path: PathBuf,
    w: BufWriter<File>,
    bytes: u64,
}

impl RunWriter {
    fn create(path: PathBuf) -> Result<RunWriter, SpillError> {
        match File::create(&path) {
            Ok(f) => Ok(RunWriter {
                w: BufWriter::with_capacity(1 << 16, f),
                path,
                bytes: 0,
            }),
            Err(source) => Err(SpillError::Write { path, source }),
        }
    }

    fn put<T: Serialize>(&mut self, rec: &T) -> Result<(), SpillError> {
        let body = postcard::to_stdvec(rec).map_err(|e| SpillError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        let len = u32::try_from(body.len()).map_err(|_| SpillError::Write {
            path: self.path.clone(),
            source: std::io::Error::other("record over 4 GiB"),
        })?;
        let res = self
            .w
            .write_all(&len.to_le_bytes())
            .and_then(|()| self.w.write_all(&body));
        res.map_err(|source| SpillError::Write {
            path: self.path.clone(),
            source,
        })?;
        self.bytes += 4 + body.len() as u64;
        Ok(())
    }

    fn close(mut self) -> Result<u64, SpillError> {
        match self.w.flush().and_then(|()| self.w.get_ref().sync_data()) {
            Ok(()) => Ok(self.bytes),
            Err(source) => Err(SpillError::Write {
                path: self.path,
                source,
            }),
        }
    }
}

/// Reads a run file's records in order, one ahead.
struct RunReader<T> {
    path: PathBuf,
    r: BufReader<File>,
    head: Option<T>,
}

impl<T: DeserializeOwned> RunReader<T> {
    fn open(path: &Path) -> Result<RunReader<T>, SpillError> {
        let f = File::open(path).map_err(|e| SpillError::Read {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        let mut r = RunReader {
            path: path.to_path_buf(),
            r: BufReader::with_capacity(1 << 16, f),
            head: None,
        };
        r.advance()?;
        Ok(r)
    }

    fn advance(&mut self) -> Result<(), SpillError> {
        let bad = |what: String| SpillError::Read {
            path: self.path.clone(),
            what,
        };
        let mut len = [0u8; 4];
        match self.r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.head = None;
                return Ok(());
            }
            Err(e) => return Err(bad(e.to_string())),
        }
        let n = u32::from_le_bytes(len) as usize;
        let mut body = Vec::new();
        (&mut self.r)
            .take(n as u64)
            .read_to_end(&mut body)
            .map_err(|e| bad(e.to_string()))?;
        if body.len() != n {
            return Err(bad("truncated record".to_string()));
        }
        self.head = Some(postcard::from_bytes(&body).map_err(|e| bad(e.to_string()))?);
        Ok(())
    }
}

/// Merges runs of `T` by key, calling `out` with each key's merged record
/// (normalised), in key order.
fn merge_runs<T: Rec>(
    paths: &[PathBuf],
    mut out: impl FnMut(T) -> Result<(), SpillError>,
) -> Result<(), SpillError> {
    let mut readers: Vec<RunReader<T>> = Vec::with_capacity(paths.len());
    for p in paths {
        readers.push(RunReader::open(p)?);
    }
    loop {
        let Some(key) = readers
            .iter()
            .filter_map(|r| r.head.as_ref().map(Rec::key))
            .min()
            .cloned()
        else {
            return Ok(());
        };
        let mut merged: Option<T> = None;
        for r in &mut readers {
            if r.head.as_ref().is_some_and(|h| *h.key() == key) {
                if let Some(h) = r.head.take() {
                    match &mut merged {
                        Some(m) => m.absorb(h),
                        None => merged = Some(h),
                    }
                }
                r.advance()?;
            }
        }
        if let Some(mut m) = merged {
            m.normalize();
            out(m)?;
        }
    }
}

impl Spiller {
    /// A spiller for `limit` bytes with its runs in a fresh directory
    /// under `parent` (the system's temporary directory when `None`).
    pub fn new(limit: u64, parent: Option<&Path>) -> Result<Spiller, SpillError> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix("lateral-spill-")
            .tempdir_in(&parent)
            .map_err(|source| SpillError::Dir {
                dir: parent.clone(),
                source,
            })?;
        Ok(Spiller {
            limit,
            dir,
            state: Mutex::new(State {
                stats: SpillStats {
                    limit,
                    ..SpillStats::default()
                },
                ..State::default()
            }),
        })
    }

    /// The directory the runs go to (removed when the spiller is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The learning builders' share of the limit: half of it, the other
    /// half left for what is not spilled (the host directory, the records
    /// kept for the detectors, reading buffers) and the finished profiles.
    pub fn builders_share(&self) -> u64 {
        self.limit / 2
    }

    /// The share of one of `n` builders folding at once.
    pub fn share_of(&self, n: usize) -> u64 {
        self.builders_share() / (n.max(1) as u64)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What it did so far.
    pub fn stats(&self) -> SpillStats {
        self.lock().stats
    }

    /// True when some builder was spilled.
    pub fn spilled(&self) -> bool {
        !self.lock().runs.is_empty()
    }

    /// Spills `b` when its estimate is over `share` bytes (it then starts
    /// empty). An error is kept for [`Spiller::finish`] to return (the fold
    /// goes on, holding the state).
    pub fn check(&self, b: &mut ProfileBuilder, share: u64) {
        if b.estimated_bytes() <= share || self.lock().error.is_some() {
            return;
        }
        let dir = b.directory().clone();
        let full = std::mem::replace(b, ProfileBuilder::new(dir));
        if let Err(e) = self.spill(full) {
            let mut st = self.lock();
            st.error.get_or_insert(e);
        }
    }

    fn next_base(&self) -> PathBuf {
        let mut st = self.lock();
        let n = st.next;
        st.next += 1;
        self.dir.path().join(format!("run-{n:06}"))
    }

    /// Writes `b` as a run.
    fn spill(&self, b: ProfileBuilder) -> Result<(), SpillError> {
        let base = self.next_base();
        let (hosts, users, services) = records_of(b);
        let (h, u) = (base.with_extension("hosts"), base.with_extension("users"));
        let mut bytes = 0;
        let mut w = RunWriter::create(h)?;
        let mut k = RunWriter::create(base.with_extension("keys"))?;
        for r in &hosts {
            w.put(r)?;
            k.put(&KeyRec(r.profile.key.clone()))?;
        }
        bytes += w.close()? + k.close()?;
        drop(hosts);
        let mut w = RunWriter::create(u)?;
        for r in &users {
            w.put(r)?;
        }
        bytes += w.close()?;
        let mut w = RunWriter::create(base.with_extension("services"))?;
        w.put(&services)?;
        bytes += w.close()?;
        let mut st = self.lock();
        st.runs.push(base);
        st.stats.spills += 1;
        st.stats.bytes += bytes;
        Ok(())
    }

    /// The profiles of everything folded: `rest` (the builder in memory)
    /// spilled as one more run when any was spilled, then every run
    /// merged by key; or `rest` finished as usual when none was.
    pub fn finish(
        &self,
        rest: ProfileBuilder,
        thresholds: &RoleThresholds,
    ) -> Result<Profiles, SpillError> {
        if let Some(e) = self.lock().error.take() {
            return Err(e);
        }
        if !self.spilled() {
            return Ok(rest.finish_with(thresholds));
        }
        let dir = rest.directory().clone();
        self.spill(rest)?;
        let mut runs = std::mem::take(&mut self.lock().runs);
        // Too many runs to open at once: merge them into longer ones.
        while runs.len() > FAN_IN {
            let group: Vec<PathBuf> = runs.drain(..FAN_IN).collect();
            runs.push(self.merge_to_run(&group)?);
        }
        self.lock().stats.runs_merged += runs.len() as u64;
        let p = assemble(&runs, &dir, thresholds)?;
        for r in &runs {
            remove_run(r);
        }
        Ok(p)
    }

    /// Merges `group` into one new run (records still open) and removes them.
    fn merge_to_run(&self, group: &[PathBuf]) -> Result<PathBuf, SpillError> {
        let base = self.next_base();
        let mut bytes = 0;
        let mut w = RunWriter::create(base.with_extension("hosts"))?;
        let mut k = RunWriter::create(base.with_extension("keys"))?;
        merge_runs::<HostRec>(&exts(group, "hosts"), |r| {
            k.put(&KeyRec(r.profile.key.clone()))?;
            w.put(&r)
        })?;
        bytes += w.close()? + k.close()?;
        let mut w = RunWriter::create(base.with_extension("users"))?;
        merge_runs::<UserRec>(&exts(group, "users"), |r| w.put(&r))?;
        bytes += w.close()?;
        let mut services = read_services(group)?;
        services.sort();
        services.dedup();
        let mut w = RunWriter::create(base.with_extension("services"))?;
        w.put(&services)?;
        bytes += w.close()?;
        for r in group {
            remove_run(r);
        }
        let mut st = self.lock();
        st.stats.bytes += bytes;
        st.stats.runs_merged += group.len() as u64;
        Ok(base)
    }
}

fn exts(runs: &[PathBuf], ext: &str) -> Vec<PathBuf> {
    runs.iter().map(|r| r.with_extension(ext)).collect()
}

fn remove_run(base: &Path) {
    for ext in ["hosts", "keys", "users", "services"] {
        let _ = std::fs::remove_file(base.with_extension(ext));
    }
}

/// Every service the runs hold (with repeats).
fn read_services(runs: &[PathBuf]) -> Result<Vec<Service>, SpillError> {
    let mut all = Vec::new();
    for p in exts(runs, "services") {
        let r: RunReader<Vec<Service>> = RunReader::open(&p)?;
        all.extend(r.head.unwrap_or_default());
    }
    Ok(all)
}

/// A builder's state as records sorted by key, and its services.
fn records_of(mut b: ProfileBuilder) -> (Vec<HostRec>, Vec<UserRec>, Vec<Service>) {
    b.settle_activity();
    let keys: Vec<HostKey> = b.hosts.iter().map(|h| h.key.clone()).collect();
    let key = |i: u32| keys.get(i as usize).cloned();
    let services = std::mem::take(&mut b.services);
    let service = |i: u32| services.get(i as usize).cloned();
    let mut hosts: Vec<HostRec> = std::mem::take(&mut b.hosts)
        .into_iter()
        .map(|profile| HostRec {
            profile,
            ips: Vec::new(),
            hourly: Vec::new(),
            admin_hours: Vec::new(),
            edges: Vec::new(),
            admin: Vec::new(),
            edge_hours: Vec::new(),
        })
        .collect();
    for (ip, &h) in &b.ip_cache {
        if let Some(r) = hosts.get_mut(h as usize) {
            r.ips.push(*ip);
        }
    }
    for part in std::mem::take(&mut b.hourly).into_parts() {
        for ((h, hour, peer), cell) in part {
            let peer = if peer == h {
                None
            } else {
                match key(peer) {
                    Some(k) => Some(k),
                    None => continue,
                }
            };
            if let Some(r) = hosts.get_mut(h as usize) {
                r.hourly.push((hour, peer, cell));
            }
        }
    }
    for (s, hour, d) in std::mem::take(&mut b.admin_hours) {
        if let (Some(r), Some(d)) = (hosts.get_mut(s as usize), key(d)) {
            r.admin_hours.push((hour, d));
        }
    }
    for part in std::mem::take(&mut b.edges).into_parts() {
        for ((s, d, v), st) in part {
            if let (Some(r), Some(d), Some(v)) = (hosts.get_mut(s as usize), key(d), service(v)) {
                r.edges.push((d, v, st));
            }
        }
    }
    for ((s, d, p), st) in std::mem::take(&mut b.admin) {
        if let (Some(r), Some(d)) = (hosts.get_mut(s as usize), key(d)) {
            r.admin.push((d, p, st));
        }
    }
    for ((s, d, v), w) in std::mem::take(&mut b.edge_hours) {
        if let (Some(r), Some(d), Some(v)) = (hosts.get_mut(s as usize), key(d), service(v)) {
            r.edge_hours.push((d, v, w));
        }
    }
    let mut users: Vec<UserRec> = std::mem::take(&mut b.users)
        .into_iter()
        .map(|info| UserRec {
            info,
            hours: Vec::new(),
            logons: Vec::new(),
        })
        .collect();
    let user_hours = std::mem::replace(
        &mut b.user_hours,
        crate::profile::pending::Pending::new(|_, _| {}),
    );
    for ((u, hour, h), ()) in user_hours.into_records() {
        if let (Some(r), Some(h)) = (users.get_mut(u as usize), key(h)) {
            r.hours.push((hour, h));
        }
    }
    let logons = std::mem::replace(
        &mut b.logons,
        crate::profile::pending::Pending::new(LogonStats::merge),
    );
    for ((u, s, d), st) in logons.into_records() {
        let src = if s == NO_HOST { None } else { key(s) };
        if s != NO_HOST && src.is_none() {
            continue;
        }
        if let (Some(r), Some(d)) = (users.get_mut(u as usize), key(d)) {
            r.logons.push((src, d, st));
        }
    }
    drop(b);
    hosts.sort_by(|x, y| x.profile.key.cmp(&y.profile.key));
    users.sort_by(|x, y| x.info.name.cmp(&y.info.name));
    for r in &mut hosts {
        r.normalize();
    }
    for r in &mut users {
        r.normalize();
    }
    (hosts, users, services)
}

/// The finished profiles of `runs` (at most [`FAN_IN`]), merged by key.
fn assemble(
    runs: &[PathBuf],
    dir: &HostDirectory,
    thresholds: &RoleThresholds,
) -> Result<Profiles, SpillError> {
    let mut services = read_services(runs)?;
    services.sort();
    services.dedup();
    let sid = |s: &Service| services.binary_search(s).ok().map(|i| ServiceId(i as u32));
    let mut distinct = 0usize;
    merge_runs::<KeyRec>(&exts(runs, "keys"), |_| {
        distinct += 1;
        Ok(())
    })?;
    let mut hosts: Vec<HostProfile> = Vec::with_capacity(distinct);
    // Records naming other hosts by key, resolved once every host is known.
    let mut edges: Vec<(HostId, HostKey, ServiceId, EdgeStats)> = Vec::new();
    let mut admin: Vec<(HostId, HostKey, AdminService, AdminStats)> = Vec::new();
    let mut edge_hours: Vec<(HostId, HostKey, ServiceId, WeekHours)> = Vec::new();
    merge_runs::<HostRec>(&exts(runs, "hosts"), |r| {
        let id = HostId(hosts.len() as u32);
        let HostRec {
            mut profile,
            ips,
            hourly,
            admin_hours,
            edges: e,
            admin: a,
            edge_hours: w,
        } = r;
        close_hours(&mut profile, &hourly, &admin_hours);
        profile.ips.extend(ips);
        for (d, v, st) in e {
            if let Some(v) = sid(&v) {
                edges.push((id, d, v, st));
            }
        }
        for (d, p, st) in a {
            admin.push((id, d, p, st));
        }
        for (d, v, h) in w {
            if let Some(v) = sid(&v) {
                edge_hours.push((id, d, v, h));
            }
        }
        hosts.push(profile);
        Ok(())
    })?;
    let hid = |k: &HostKey| {
        hosts
            .binary_search_by(|p| p.key.cmp(k))
            .ok()
            .map(|i| HostId(i as u32))
    };
    let edges: Vec<Edge> = edges
        .into_iter()
        .filter_map(|(src, d, service, stats)| {
            hid(&d).map(|dst| Edge {
                src,
                dst,
                service,
                stats,
            })
        })
        .collect();
    let admin: Vec<AdminUse> = admin
        .into_iter()
        .filter_map(|(src, d, proto, stats)| {
            hid(&d).map(|dst| AdminUse {
                src,
                dst,
                proto,
                stats,
            })
        })
        .collect();
    let edge_hours: Vec<EdgeHours> = edge_hours
        .into_iter()
        .filter_map(|(src, d, service, hours)| {
            hid(&d).map(|dst| EdgeHours {
                src,
                dst,
                service,
                hours,
            })
        })
        .collect();
    let mut users: Vec<UserInfo> = Vec::new();
    let mut logons: Vec<Logon> = Vec::new();
    merge_runs::<UserRec>(&exts(runs, "users"), |r| {
        let user = UserId(users.len() as u32);
        let mut info = r.info;
        // Distinct (hour, host), in order: each hour's run is the hosts
        // the account reached in it.
        for run in r.hours.chunk_by(|a, b| a.0 == b.0) {
            let n = u32::try_from(run.len()).unwrap_or(u32::MAX);
            info.peak_hosts_per_hour = info.peak_hosts_per_hour.max(n);
        }
        for (s, d, stats) in r.logons {
            let src = match &s {
                Some(k) => match hid(k) {
                    Some(h) => Some(h),
                    None => continue,
                },
                None => None,
            };
            if let Some(dst) = hid(&d) {
                logons.push(Logon {
                    user,
                    src,
                    dst,
                    stats,
                });
            }
        }
        users.push(info);
        Ok(())
    })?;
    finish_hosts(dir, &mut hosts);
    Ok(
        Profiles::from_parts(hosts, services, users, edges, admin, logons, thresholds)
            .with_edge_hours(edge_hours),
    )
}

/// Closes a host's per-hour state into its distributions and its peak of
/// remote-admin hosts per hour, as [`ProfileBuilder::finish_with`] does.
fn close_hours(
    p: &mut HostProfile,
    hourly: &[(u32, Option<HostKey>, HourCell)],
    admin_hours: &[(u32, HostKey)],
) {
    for run in hourly.chunk_by(|a, b| a.0 == b.0) {
        let mut flows = 0u64;
        let mut peers = 0u64;
        for (_, peer, n) in run {
            flows += u64::from(n.flows);
            if peer.is_some() {
                peers += 1;
                if n.sent_flows > 0 {
                    p.bytes_out_per_peer_hour.record(n.sent);
                }
            }
        }
        p.flows_per_hour.record(flows);
        p.peers_per_hour.record(peers);
    }
    for run in admin_hours.chunk_by(|a, b| a.0 == b.0) {
        let n = run.iter().filter(|(_, d)| *d != p.key).count();
        if n > 0 {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            p.admin_peak_hour_hosts = p.admin_peak_hour_hosts.max(n);
        }
    }
}
