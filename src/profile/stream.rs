//! The learning period folded as it is read, never held: what `analyze`
//! and `baseline build` do when every input is a file that can be read
//! twice.
//!
//! Profiles are keyed through the host directory, which is resolved from
//! the evidence of every event, so the inputs are read twice:
//!
//! 1. a survey folds each event into a [`DirectoryBuilder`] (mergeable:
//!    one per worker thread) and notes the records' time span, which
//!    places the cut (`--learn auto` and fractions need it);
//! 2. the fold hands each event before the cut to a [`ProfileBuilder`]
//!    (one per worker thread, merged at the end) and keeps only the
//!    events from the cut on, for the detectors.
//!
//! Captures are read once, in the survey: their connection records go to
//! the flow store as usual, and their few events (DNS answers, analyzer
//! findings) are held and folded with the rest. Both folds are
//! order-independent, so pieces may reach them in any order; the two
//! things that need time order get it from the few events they read:
//! Sigma hits of the learning part ([`Streamed::learn_marks`]), and remote
//! execution, whose attribution ([`crate::profile::exec::attribute`])
//! needs the service installations and admin-share accesses of the
//! learning part and the successful network logons on the hosts they
//! happened on, sorted, as the whole learning part would give them.

use crate::collect::flow_store::FlowStore;
use crate::collect::pipeline::{
    EventRun, FlowRunOptions, FoldedInput, LogOptions, fold_inputs, fold_pieces, folded_run,
};
use crate::error::Error;
use crate::hosts::{DirectoryBuilder, HostDirectory, HostKey, HostsFile};
use crate::input::InputPath;
use crate::model::Action;
use crate::model::event::{LogEvent, Outcome, Text, Timestamp};
use crate::model::host::canonical_ip;
use crate::profile::Profiles;
use crate::profile::build::{ProfileBuilder, fold_flows};
use crate::profile::exec::{Side, directory_key, is_exec_action};
use crate::profile::held::{HeldBuilder, HeldLogons};
use crate::profile::light_baseline::{LightTable, LightTouch};
use crate::profile::logon::is_network_logon;
use crate::profile::role::RoleThresholds;
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How a streamed learning period is cut and what it keeps.
pub struct Plan<'a> {
    /// The cut, from the time span of every record (events, `extra` and
    /// connection records); `None`: every record is learned.
    pub cut: &'a (dyn Fn(Option<(Timestamp, Timestamp)>) -> Option<Timestamp> + Sync),
    /// The directory takes the evidence of the learning part only (a
    /// baseline), not that of every event (an analysis). Needs a cut
    /// that does not depend on the span ([`Plan::fixed_cut`]).
    pub directory_before_cut: bool,
    /// The cut when it is known before reading (`--until`), for
    /// [`Plan::directory_before_cut`].
    pub fixed_cut: Option<Timestamp>,
    /// Keep the events from the cut on (to judge them), or drop them.
    pub keep_judged: bool,
    /// Of the events from the cut on, keep only those this accepts (what
    /// some consumer can read) and count the rest ([`Streamed::unread`]);
    /// `None`: keep all. Applied only when some record is learned: with
    /// none, the judged records are profiled themselves (role priors).
    pub judged_reads: Option<&'a (dyn Fn(&LogEvent) -> bool + Sync)>,
    /// Of the events from the cut on that are kept, hold those this
    /// accepts compactly ([`Streamed::held`], [`crate::profile::held`])
    /// instead of in the run's events. Applied with
    /// [`Plan::judged_reads`] only, and never to a network logon on a
    /// host that logged remote execution (which reads its logons among
    /// the events).
    pub judged_held: Option<&'a (dyn Fn(&LogEvent) -> bool + Sync)>,
    /// With [`Plan::judged_reads`]: the fewest failed attempts from one
    /// source that a rule reads (`crate::detect::JudgedReader::failures_needed`).
    /// A judged event [`Plan::source_failure`] accepts whose source is an
    /// address no named host owns, and that fewer events name in all
    /// (counted by the survey; see [`learn`]), is counted with
    /// [`Streamed::unread`] instead of held. 0: every one is held.
    pub failures_needed: usize,
    /// The judged events the rules read only as a failed attempt of their
    /// source (`crate::detect::rules::read_as_source_failure`), for
    /// [`Plan::failures_needed`]; `None`: none.
    pub source_failure: Option<&'a (dyn Fn(&LogEvent) -> bool + Sync)>,
    /// A hosts file for the directory.
    pub hosts: Option<&'a HostsFile>,
    /// `--memory-limit`: spill the learning builders past their share of
    /// it ([`crate::profile::spill`]); `None`: no limit.
    pub spill: Option<&'a crate::profile::spill::Spiller>,
}

/// What a streamed learning period gave.
#[derive(Debug)]
pub struct Streamed {
    /// The inputs' reports, every connection record, and in `events` the
    /// log events from the cut on (when kept), sorted as a run sorts them
    /// (`extra` not among them). `folded` counts the events not kept.
    pub run: EventRun,
    /// The cut (`None`: all learned).
    pub cut: Option<Timestamp>,
    /// The time span of every record read, `extra` included.
    pub whole: Option<(Timestamp, Timestamp)>,
    /// The host directory.
    pub directory: Arc<HostDirectory>,
    /// The profiles of the learning part.
    pub profiles: Profiles,
    /// The time span of the learning part.
    pub learned: Option<(Timestamp, Timestamp)>,
    /// Records learned: connection records, log events (`extra` included).
    pub learn_counts: (usize, usize),
    /// The learning part's `sigma-match` events from the inputs, in run
    /// order (`extra` not among them): Sigma hits are alerts wherever they fall.
    pub learn_marks: Vec<LogEvent>,
    /// The events from the cut on that [`Plan::judged_reads`] left out.
    pub unread: Unread,
    /// The events from the cut on held compactly ([`Plan::judged_held`]).
    pub held: HeldLogons,
}

/// Judged log events no consumer reads, counted as they are dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unread {
    /// How many.
    pub events: usize,
    /// Their time span.
    pub span: Option<(Timestamp, Timestamp)>,
}

impl Unread {
    fn add(&mut self, ts: Timestamp) {
        self.events += 1;
        self.span = widen(self.span, Some((ts, ts)));
    }

    fn merge(&mut self, o: Unread) {
        self.events += o.events;
        self.span = widen(self.span, o.span);
    }
}

/// One value per rayon worker thread (and one for any other thread),
/// locked only by the thread it belongs to.
struct PerThread<T> {
    slots: Vec<Mutex<Option<T>>>,
}

impl<T> PerThread<T> {
    fn new() -> Self {
        let n = rayon::current_num_threads().max(1) + 1;
        PerThread {
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
        }
    }

    fn with<R>(&self, init: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let last = self.slots.len().saturating_sub(1);
        let i = rayon::current_thread_index().map_or(last, |i| i.min(last));
        let slot = self.slots.get(i)?;
        let mut held = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(held.get_or_insert_with(init)))
    }

    fn into_values(self) -> Vec<T> {
        self.slots
            .into_iter()
            .filter_map(|m| {
                m.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect()
    }
}

/// The widest span of `a` and `b`.
fn widen(
    a: Option<(Timestamp, Timestamp)>,
    b: Option<(Timestamp, Timestamp)>,
) -> Option<(Timestamp, Timestamp)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (x, None) | (None, x) => x,
    }
}

/// What the survey learns from the events one thread read.
#[derive(Default)]
struct Survey {
    directory: DirectoryBuilder,
    /// Sessions hosts logged, to tie their names to captured addresses.
    sessions: crate::hosts::session::Sightings,
    span: Option<(Timestamp, Timestamp)>,
    /// How the writers of remote execution spell themselves.
    exec_writers: FxHashSet<(Option<IpAddr>, Option<Text>)>,
    /// Per address: the events naming it as their source (an address
    /// also met in another place: `u32::MAX`). Only with
    /// [`Plan::failures_needed`].
    sources: FxHashMap<IpAddr, u32>,
}

impl Survey {
    fn observe(&mut self, e: &LogEvent, take_evidence: bool, count_sources: bool) {
        self.span = widen(self.span, Some((e.ts, e.ts)));
        if count_sources {
            let named = e
                .source_domain
                .as_deref()
                .and_then(crate::model::host::parse_ip);
            for ip in [e.source_ip, named].into_iter().flatten() {
                let n = self.sources.entry(canonical_ip(ip)).or_insert(0);
                *n = n.saturating_add(1);
            }
            // A writer or destination (an explicit-credential logon's
            // source is its writer, by address or by a name that is one).
            let writer = e
                .host_name
                .as_deref()
                .and_then(crate::model::host::parse_ip);
            for ip in [e.host_ip, writer, e.destination_ip].into_iter().flatten() {
                self.sources.insert(canonical_ip(ip), u32::MAX);
            }
        }
        if take_evidence {
            self.directory.observe(e);
            self.sessions.observe(e);
            if is_exec_action(e) {
                let (ip, name) = Side::Writer.of(e);
                self.exec_writers.insert((ip, name.map(Text::from)));
            }
        }
    }

    fn merge(&mut self, mut o: Survey) {
        self.directory.merge(o.directory);
        self.sessions.merge(o.sessions);
        self.span = widen(self.span, o.span);
        self.exec_writers.extend(o.exec_writers);
        if self.sources.len() < o.sources.len() {
            std::mem::swap(&mut self.sources, &mut o.sources);
        }
        for (ip, n) in o.sources {
            let mine = self.sources.entry(ip).or_insert(0);
            *mine = mine.saturating_add(n);
        }
    }
}

/// What the fold made of the events one thread read.
struct Fold {
    builder: ProfileBuilder,
    /// The light sources' part of the learning events (see
    /// [`crate::profile::light_baseline`]).
    light: LightTable,
    events: usize,
    span: Option<(Timestamp, Timestamp)>,
    unread: Unread,
}

/// True when `path` is a file that reads the same twice (not standard
/// input, a FIFO or a device).
fn rereadable(path: &InputPath) -> bool {
    match path {
        InputPath::Stdin => false,
        InputPath::File(p) => std::fs::metadata(p).is_ok_and(|m| m.is_file()),
    }
}

/// True when every input can be read twice, so [`learn`] can stream them.
pub fn can_stream(paths: &[InputPath]) -> bool {
    !paths.is_empty() && paths.iter().all(rereadable)
}

/// Reads `paths` twice (see the module docs): learns profiles from the
/// records before the plan's cut without holding them, and keeps the
/// rest when asked. `extra` events (Sigma hits, read apart) are surveyed
/// and learned alike but not returned. The profiles, directory and kept
/// events equal those of reading everything and splitting it. Fails only
/// when spilled connection records cannot be read back.
#[allow(clippy::too_many_arguments)]
pub fn learn(
    paths: &[InputPath],
    path_errors: Vec<Error>,
    opts: &FlowRunOptions,
    logs: &LogOptions,
    progress: &AtomicU64,
    extra: &[LogEvent],
    plan: &Plan<'_>,
) -> std::io::Result<Streamed> {
    let started = Instant::now();
    let evidence =
        |ts: Timestamp| !plan.directory_before_cut || plan.fixed_cut.is_none_or(|c| ts < c);
    // Pass 1: the directory's evidence and the span.
    let surveys: PerThread<Survey> = PerThread::new();
    let counts = plan.failures_needed > 0
        && plan.source_failure.is_some()
        && plan.judged_reads.is_some()
        && plan.keep_judged;
    let survey = |events: Vec<LogEvent>| -> Vec<LogEvent> {
        surveys.with(Survey::default, |s| {
            for e in &events {
                s.observe(e, evidence(e.ts), counts);
            }
        });
        Vec::new()
    };
    let store = FlowStore::with_attempts_at(opts.spill_at, opts.spill_attempts_at);
    let all: Vec<usize> = (0..paths.len()).collect();
    let first = fold_inputs(paths, &all, opts, logs, progress, &store, &survey);
    let mut captures: Vec<FoldedInput> = Vec::new();
    let mut logs_again: Vec<usize> = Vec::new();
    for f in first {
        if f.capture {
            // Read once: their events join the survey here.
            for e in &f.events {
                survey_one(&surveys, e, evidence(e.ts), counts);
            }
            captures.push(f);
        } else {
            logs_again.push(f.index);
        }
    }
    // A capture is read once: its share of the second pass (the progress
    // total counts every input twice) is done already.
    let read_once: Vec<InputPath> = captures
        .iter()
        .filter_map(|f| paths.get(f.index).cloned())
        .collect();
    progress.fetch_add(
        crate::collect::pipeline::total_size(&read_once),
        std::sync::atomic::Ordering::Relaxed,
    );
    for e in extra {
        survey_one(&surveys, e, evidence(e.ts), counts);
    }
    let mut surveyed = Survey::default();
    for s in surveys.into_values() {
        surveyed.merge(s);
    }
    let flows = store.finish()?;
    let flow_span = flows.first_ts().zip(flows.last_ts());
    let whole = widen(surveyed.span, flow_span);
    let cut = (plan.cut)(whole);
    let learns = |ts: Timestamp| cut.is_none_or(|c| ts < c);
    let mut directory = surveyed.directory;
    if !surveyed.sessions.is_empty() {
        let mut stubs = Vec::new();
        // A spilled run that cannot be read back only ties fewer names;
        // the fold below reports the error.
        let _ = flows.for_each(|f| {
            if evidence(f.ts) {
                stubs.extend(crate::hosts::session::SessionFlow::of(f));
            }
            Ok(())
        });
        directory.tie_sessions(surveyed.sessions, &stubs);
    }
    if let Some(h) = plan.hosts {
        directory.add_file(h);
    }
    let dir = Arc::new(directory.finish());
    let exec_hosts: FxHashSet<HostKey> = surveyed
        .exec_writers
        .iter()
        .filter_map(|(ip, name)| directory_key(&dir, Side::Writer, *ip, name.as_deref()))
        .collect();
    // Pass 2: fold the learning part, keep the rest.
    let folds: PerThread<Fold> = PerThread::new();
    let new_fold = || Fold {
        builder: ProfileBuilder::new(dir.clone()),
        light: LightTable::new(),
        events: 0,
        span: None,
        unread: Unread::default(),
    };
    // One for every thread: each piece's held events are added under one
    // lock, so a template seen by several threads is held once (a
    // builder per thread held most of a day's templates twice).
    let held_all: Mutex<HeldBuilder> = Mutex::new(HeldBuilder::default());
    // Judged events are filtered only when something is learned.
    let judged_reads = plan
        .judged_reads
        .filter(|_| matches!((cut, whole), (Some(c), Some((a, _))) if a < c));
    let judged_held = plan.judged_held.filter(|_| judged_reads.is_some());
    // A judged failed attempt whose source no rule groups: its source is
    // an address (the record's, else a workstation written as one) that
    // is no named host's, so the source's failures are among the events
    // naming that address, and fewer of those than any rule needs
    // failures of one source were read. Counted, not held.
    let sources = std::mem::take(&mut surveyed.sources);
    let needed = u32::try_from(plan.failures_needed).unwrap_or(u32::MAX);
    let source_failure = plan.source_failure.filter(|_| counts);
    let passes = |e: &LogEvent| {
        judged_reads.is_some()
            && needed > 0
            && source_failure.is_some_and(|f| f(e))
            && e.source_ip
                .or_else(|| {
                    e.source_domain
                        .as_deref()
                        .and_then(crate::model::host::parse_ip)
                })
                .is_some_and(|ip| {
                    let ip = canonical_ip(ip);
                    !ip.is_loopback()
                        && !ip.is_unspecified()
                        && sources.get(&ip).is_some_and(|&n| n < needed)
                        && !dir.key_for_ip(ip).is_named()
                })
    };
    // Held compactly: not a logon that remote execution is tied with.
    let holds = |e: &LogEvent| {
        judged_held.is_some_and(|h| h(e))
            && (exec_hosts.is_empty() || !is_network_logon(e) || {
                let (ip, name) = Side::Writer.of(e);
                directory_key(&dir, Side::Writer, ip, name).is_none_or(|k| !exec_hosts.contains(&k))
            })
    };
    // Learning events the fold keeps: Sigma hits and what remote
    // execution is tied with (see the module docs).
    let mark = |e: &LogEvent| {
        e.action == Action::SigmaMatch
            || is_exec_action(e)
            || (!exec_hosts.is_empty()
                && is_network_logon(e)
                && e.outcome == Some(Outcome::Success)
                && {
                    let (ip, name) = Side::Writer.of(e);
                    directory_key(&dir, Side::Writer, ip, name)
                        .is_some_and(|k| exec_hosts.contains(&k))
                })
    };
    let light_on = light_routing();
    let fold_share = plan
        .spill
        .map_or(u64::MAX, |s| s.share_of(rayon::current_num_threads()));
    let fold = |events: Vec<LogEvent>| -> Vec<LogEvent> {
        folds
            .with(new_fold, |f| {
                let mut kept = Vec::new();
                let mut to_hold = Vec::new();
                for e in events {
                    if learns(e.ts) {
                        learn_one(&mut f.builder, &mut f.light, &e, light_on);
                        f.events += 1;
                        f.span = widen(f.span, Some((e.ts, e.ts)));
                        if mark(&e) {
                            kept.push(e);
                        }
                    } else if plan.keep_judged {
                        if passes(&e) {
                            f.unread.add(e.ts);
                        } else if judged_reads.is_none_or(|r| r(&e)) {
                            if holds(&e) {
                                to_hold.push(e);
                            } else {
                                kept.push(e);
                            }
                        } else {
                            f.unread.add(e.ts);
                        }
                    }
                }
                if !to_hold.is_empty() {
                    let mut h = held_all
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for e in to_hold {
                        h.add(e);
                    }
                }
                if let Some(s) = plan.spill {
                    s.check(&mut f.builder, fold_share);
                }
                kept
            })
            .unwrap_or_default()
    };
    let mut inputs = fold_inputs(
        paths,
        &logs_again,
        opts,
        logs,
        progress,
        &FlowStore::new(opts.spill_at),
        &fold,
    );
    // Read from the survey on, a capture's events are folded alike (an
    // input that turned into a capture between the passes is not).
    inputs.retain(|f| !f.capture);
    let mut seen: usize = inputs.iter().map(|f| f.report.events as usize).sum();
    for mut c in captures {
        seen += c.events.len();
        c.events = fold_pieces(&fold, std::mem::take(&mut c.events));
        inputs.push(c);
    }
    let extra_learned: Vec<&LogEvent> = extra.iter().filter(|e| learns(e.ts)).collect();
    if !extra_learned.is_empty() {
        folds.with(new_fold, |f| {
            for e in &extra_learned {
                learn_one(&mut f.builder, &mut f.light, e, light_on);
                f.events += 1;
                f.span = widen(f.span, Some((e.ts, e.ts)));
            }
        });
    }
    let mut run = folded_run(inputs, path_errors, FlowStore::new(usize::MAX), started);
    if let Some(e) = run.store_error.take() {
        return Err(std::io::Error::other(e));
    }
    run.flows = flows;
    // The kept learning events (sorted with the rest) go apart.
    let marks_end = run.events.partition_point(|e| learns(e.ts));
    let mut learn_marks: Vec<LogEvent> = run.events.drain(..marks_end).collect();
    let mut builder = ProfileBuilder::new(dir.clone());
    let mut events = 0;
    let mut span = None;
    let mut unread = Unread::default();
    let whole_share = plan.spill.map_or(u64::MAX, |s| s.builders_share());
    let check = |b: &mut ProfileBuilder| {
        if let Some(s) = plan.spill {
            s.check(b, whole_share);
        }
    };
    let mut light = LightTable::new();
    for f in folds.into_values() {
        light = light.merge(f.light);
        builder.merge(f.builder);
        check(&mut builder);
        events += f.events;
        span = widen(span, f.span);
        unread.merge(f.unread);
    }
    let held = held_all
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let held_len = held.len();
    // Connection records of the learning part, in batches.
    let mut learned_flows = 0usize;
    // Under a memory limit a batch is small enough that its builder (a
    // new host per record at worst) stays within the builders' share.
    let flow_batch = plan.spill.map_or(FLOW_BATCH, |s| {
        usize::try_from(s.builders_share() / FLOW_COST)
            .unwrap_or(FLOW_BATCH)
            .clamp(1024, FLOW_BATCH)
    });
    let mut batch = Vec::with_capacity(flow_batch.min(run.flows.len() as usize));
    let fold_batch = |batch: &mut Vec<crate::model::event::Flow>, b: &mut ProfileBuilder| {
        if let Some(part) = fold_flows(&dir, batch) {
            b.merge(part);
        }
        check(b);
        batch.clear();
    };
    run.flows.for_each(|f| {
        if learns(f.ts) {
            learned_flows += 1;
            span = widen(span, Some((f.ts, f.ts)));
            batch.push(f.clone());
            if batch.len() >= flow_batch {
                fold_batch(&mut batch, &mut builder);
            }
        }
        Ok(())
    })?;
    fold_batch(&mut batch, &mut builder);
    if learn_marks.iter().any(is_exec_action) {
        let mut x = ProfileBuilder::new(dir.clone());
        x.add_remote_exec(&learn_marks);
        builder.merge(x);
    }
    learn_marks.retain(|e| e.action == Action::SigmaMatch);
    run.folded = seen.saturating_sub(run.events.len() + held_len) as u64;
    let thresholds = RoleThresholds::default();
    let mut profiles = match plan.spill {
        Some(s) => s
            .finish(builder, &thresholds)
            .map_err(crate::profile::spill::SpillError::into_io)?,
        None => builder.finish_with(&thresholds),
    };
    // The light sources' rows: the very rows the builder would have made
    // of their events.
    if !light.is_empty() {
        let rows = light.into_profiles(&thresholds);
        drop(light);
        profiles.merge_with(rows, &thresholds);
    }
    // Joined once the learning builder is gone: the held records' one
    // list and the builder's tables are never at their largest together.
    let held = HeldLogons::merge(vec![held]);
    Ok(Streamed {
        run,
        cut,
        whole,
        directory: dir,
        profiles,
        learned: span,
        learn_counts: (learned_flows, events),
        learn_marks,
        unread,
        held,
    })
}

/// Connection records folded per batch (each batch in parallel).
const FLOW_BATCH: usize = 256 * 1024;

/// The most a connection record can add to a builder (a new host, edge
/// and hour cell), for sizing batches under `--memory-limit`.
const FLOW_COST: u64 = 2048;

/// Whether learning routes light events to a [`LightTable`]: only when
/// `LATERAL_LIGHT_PROFILES` is set. The profiles are the same either
/// way; off by default because the table is turned back into profile
/// rows at the end of learning (the baseline file and the views do not
/// read it yet), which costs more than it saves (docs/speed.md).
fn light_routing() -> bool {
    std::env::var_os("LATERAL_LIGHT_PROFILES").is_some()
}

/// An address that is not an outside source: private, loopback,
/// link-local, unspecified or unique-local.
fn inside(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || v.is_unique_local()
                || v.is_unicast_link_local()
        }
    }
}

/// Learns one event: a light touch goes to `light` (its writer's part to
/// the builder), any other event to the builder whole.
fn learn_one(b: &mut ProfileBuilder, light: &mut LightTable, e: &LogEvent, light_on: bool) {
    if light_on
        && let Some(touch) = LightTouch::of(e, inside)
        && let Some(target) = b.add_light_writer(e, touch.src)
    {
        light.note(&touch, &target);
        return;
    }
    b.add_event(e);
}

/// Surveys one event on the calling thread's survey.
fn survey_one(surveys: &PerThread<Survey>, e: &LogEvent, take_evidence: bool, counts: bool) {
    surveys.with(Survey::default, |s| s.observe(e, take_evidence, counts));
}
