//! `lateral analyze` as a library call: split the records into a learning
//! part and a detection part, learn the baseline, run every detector over
//! the rest, and join the alerts into ranked incidents.
//!
//! The split is by time: everything before the cut teaches what is normal,
//! everything from the cut on is judged. The cut is a given instant, a
//! fraction of the records' time span, or chosen by the span itself
//! ([`Learning::Auto`], the default): 60% when the input spans a day or
//! more; when it spans less, no history can be learned from it, and every
//! record is judged against role priors ([`crate::detect::priors_view`]),
//! as it is whenever the learning part is empty (`--learn 0%`).

use crate::alert::Alert;
use crate::config::Config;
use crate::detect::{BaselineView, DetectInput, Directory};
use crate::incident::{self, Incident};
use crate::model::event::{Flow, LogEvent, Timestamp};
pub use crate::profile::held::HeldLogons;
pub use crate::profile::stream::Unread;
use std::time::Instant;

/// Where the learning part ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Learning {
    /// Records before this instant are the baseline.
    Until(Timestamp),
    /// This fraction (0 to 1) of the records' time span is the baseline.
    Fraction(f64),
    /// [`AUTO_FRACTION`] of the time span when it covers at least
    /// [`AUTO_MIN_SPAN_NS`] (a daily cycle), else nothing: role priors.
    Auto,
}

impl Default for Learning {
    /// [`Learning::Auto`].
    fn default() -> Self {
        Learning::Auto
    }
}

/// The share of the span [`Learning::Auto`] learns from.
pub const AUTO_FRACTION: f64 = 0.6;

/// The shortest span [`Learning::Auto`] learns from: one day, in
/// nanoseconds. Less holds no daily cycle to learn.
pub const AUTO_MIN_SPAN_NS: i64 = 86_400_000_000_000;

impl Learning {
    /// The split `Auto` stands for on records spanning `span`.
    pub fn resolve(self, span: Option<(Timestamp, Timestamp)>) -> Learning {
        match (self, span) {
            (Learning::Auto, Some((a, z))) if z.0.saturating_sub(a.0) >= AUTO_MIN_SPAN_NS => {
                Learning::Fraction(AUTO_FRACTION)
            }
            (Learning::Auto, _) => Learning::Fraction(0.0),
            (l, _) => l,
        }
    }
}

/// What an analysis found, and what it learned from.
#[derive(Debug)]
pub struct Analysis {
    /// Alerts in output order (time, then id), each with its incident id.
    pub alerts: Vec<Alert>,
    /// Incidents, ranked (best first).
    pub incidents: Vec<Incident>,
    /// Alerts `[[suppress]]` entries took out, with their reasons.
    pub suppressed: Vec<crate::detect::suppress::Suppressed>,
    /// The cut between learning and detection.
    pub cut: Timestamp,
    /// The span of the learning records, if any.
    pub learned: Option<(Timestamp, Timestamp)>,
    /// The span of the judged records, if any.
    pub judged: Option<(Timestamp, Timestamp)>,
    /// Records in the learning part (flows, events).
    pub learn_counts: (usize, usize),
    /// Records in the detection part (flows, events).
    pub detect_counts: (usize, usize),
    /// Internal hosts in the baseline.
    pub baseline_hosts: usize,
    /// Host names known.
    pub directory: Directory,
    /// True when no history was learned and every record was judged
    /// against role priors ([`crate::detect::priors_view`]).
    pub priors: bool,
    /// Seconds spent learning the baseline.
    pub profile_secs: f64,
    /// Seconds spent detecting and building incidents.
    pub detect_secs: f64,
}

fn span(flows: &[Flow], events: &[LogEvent]) -> Option<(Timestamp, Timestamp)> {
    let firsts = [flows.first().map(|f| f.ts), events.first().map(|e| e.ts)];
    let lasts = [flows.last().map(|f| f.ts), events.last().map(|e| e.ts)];
    let a = firsts.into_iter().flatten().min()?;
    let z = lasts.into_iter().flatten().max()?;
    Some((a, z))
}

/// Where the learning part ends for records spanning `span`.
pub fn cut_point(learning: Learning, span: Option<(Timestamp, Timestamp)>) -> Timestamp {
    match (learning, span) {
        (Learning::Until(t), _) => t,
        (Learning::Fraction(_) | Learning::Auto, None) => Timestamp::default(),
        (Learning::Auto, Some(_)) => cut_point(learning.resolve(span), span),
        (Learning::Fraction(f), Some((a, z))) => {
            let f = if f.is_finite() {
                f.clamp(0.0, 1.0)
            } else {
                0.6
            };
            Timestamp(a.0 + ((z.0 - a.0) as f64 * f) as i64)
        }
    }
}

/// Analyses records sorted by time (flows in their total order, events by
/// time then origin): learns from the part before the cut and judges the rest.
pub fn analyze(
    flows: &[Flow],
    events: &[LogEvent],
    learning: Learning,
    config: &Config,
) -> Analysis {
    let whole = span(flows, events);
    let cut = cut_point(learning.resolve(whole), whole);
    let fcut = flows.partition_point(|f| f.ts < cut);
    let ecut = events.partition_point(|e| e.ts < cut);
    let (learn_flows, detect_flows) = flows.split_at(fcut.min(flows.len()));
    let (learn_events, detect_events) = events.split_at(ecut.min(events.len()));
    let t0 = Instant::now();
    let names = std::sync::Arc::new(crate::hosts::build_directory_tied(events, flows, None));
    // The detectors' directory and the judged logons it resolves need no
    // profile: they are prepared while the profiles are built.
    let ((directory, logons), profiles) = rayon::join(
        || {
            let directory = Directory::from_hosts(&names);
            let logons = crate::detect::remote_logons(detect_events, &directory);
            (directory, logons)
        },
        || crate::profile::build_parallel(names.clone(), learn_flows, learn_events),
    );
    let learned = Learned {
        names,
        profiles,
        span: span(learn_flows, learn_events),
        counts: (learn_flows.len(), learn_events.len()),
        // Sigma rules are signatures: their hits in the learning part are
        // alerts too (none without `--sigma`).
        sigma: crate::sigma::alerts::from_events(learn_events),
    };
    let judged = Judged {
        flows: detect_flows,
        events: detect_events,
        logons,
        held: None,
        directory,
        unread: Unread::default(),
        light: None,
    };
    judge(judged, learned, cut, whole, config, t0)
}

/// A learning part already learned: what [`analyze_learned`] judges
/// against.
#[derive(Debug)]
pub struct Learned {
    /// The host directory of every record (learned and judged).
    pub names: std::sync::Arc<crate::hosts::HostDirectory>,
    /// The profiles of the learning part.
    pub profiles: crate::profile::Profiles,
    /// The time span of the learning part.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Records learned (connection records, log events).
    pub counts: (usize, usize),
    /// The alerts of the Sigma hits in the learning part.
    pub sigma: Vec<Alert>,
}

/// The records to judge, resolved.
struct Judged<'a> {
    flows: &'a [Flow],
    events: &'a [LogEvent],
    logons: Vec<crate::detect::LogonView<'a>>,
    /// Judged events held compactly (not among `events`).
    held: Option<&'a crate::detect::HeldContext<'a>>,
    directory: Directory,
    /// Judged events left out as they were read: no consumer reads them.
    unread: Unread,
    /// The light sources' judged connection records, left out of `flows`
    /// as they were read (role priors only).
    light: Option<crate::profile::light::LightFold>,
}

/// [`analyze`] with the learning part learned already (a streamed
/// learning period, [`crate::profile::stream`]): judges the records from
/// `cut` on, sorted as [`analyze`] wants them, which with the learned
/// ones spanned `whole`. Gives what [`analyze`] gives over every record.
/// `unread` are judged events left out of `events` as no consumer reads
/// them ([`crate::detect::JudgedReader`]): counted as judged, never read.
/// `held` are judged events held compactly instead of in `events`
/// ([`crate::profile::held`]), judged with them. `light`, given only when
/// nothing was learned (role priors), holds the light sources' judged
/// connection records left out of `flows`
/// ([`crate::profile::light::split_light`]): counted as judged, never read.
#[allow(clippy::too_many_arguments)]
pub fn analyze_learned(
    flows: &[Flow],
    events: &[LogEvent],
    held: &HeldLogons,
    learned: Learned,
    cut: Timestamp,
    whole: Option<(Timestamp, Timestamp)>,
    unread: Unread,
    light: Option<crate::profile::light::LightFold>,
    config: &Config,
) -> Analysis {
    let t0 = Instant::now();
    let directory = Directory::from_hosts(&learned.names);
    let context = (!held.is_empty()).then(|| crate::detect::HeldContext::new(held, &directory));
    let logons = crate::detect::remote_logons_with(events, context.as_ref(), &directory);
    let judged = Judged {
        flows,
        events,
        logons,
        held: context.as_ref(),
        directory,
        unread,
        light,
    };
    judge(judged, learned, cut, whole, config, t0)
}

/// Judges `judged` against what was learned (or, when nothing was, against
/// role priors); `t0` is when profiling began.
fn judge(
    judged: Judged<'_>,
    learned: Learned,
    cut: Timestamp,
    whole: Option<(Timestamp, Timestamp)>,
    config: &Config,
    t0: Instant,
) -> Analysis {
    let Judged {
        flows: detect_flows,
        events: detect_events,
        logons,
        held,
        directory,
        unread,
        light: folded,
    } = judged;
    let Learned {
        names,
        profiles,
        span: learn_span,
        counts: learn_counts,
        sigma,
    } = learned;
    // Nothing to learn from: judge by role priors, the roles read off the
    // judged records themselves.
    let priors = learn_counts == (0, 0);
    let baseline = crate::detect::profiles_view::ProfilesView::new(
        &profiles,
        &names,
        &directory,
        learn_span,
        &config.network,
    );
    // Outside sources of failed attempts only (a flood of them) are
    // workstations by role: no profile each (`profile::light`). Found as
    // the records were read when their records were left out then.
    let crate::profile::light::LightFold {
        sources: light,
        records: light_records,
        span: light_span,
        marked: light_marked,
    } = match folded {
        Some(f) => f,
        None if priors => {
            let net = &config.network;
            crate::profile::light::LightFold {
                sources: crate::profile::light::LightSources::find(
                    detect_flows,
                    detect_events,
                    &names,
                    |ip| net.is_internal(ip),
                ),
                ..Default::default()
            }
        }
        None => Default::default(),
    };
    let judged_profiles = if priors {
        crate::profile::build_parallel_skipping(names.clone(), detect_flows, detect_events, |f| {
            light.skips(f)
        })
    } else {
        crate::profile::build_parallel(names.clone(), &[], &[])
    };
    let roles = crate::detect::profiles_view::ProfilesView::new(
        &judged_profiles,
        &names,
        &directory,
        whole,
        &config.network,
    )
    .with_light(&light);
    let with_priors = crate::detect::priors_view::PriorsView {
        history: &baseline,
        roles: &roles,
        logged_dcs: if priors {
            crate::detect::priors_view::logged_domain_controllers(detect_events)
        } else {
            Default::default()
        },
        names: &directory,
        administrators: if priors {
            let net = &config.network;
            let mut a = crate::detect::priors_view::broad_administrators(
                detect_flows,
                |ip| net.is_internal(ip),
                |ip| roles.role(ip),
            );
            a.extend(
                detect_flows
                    .iter()
                    .flat_map(|f| [f.orig_h, f.resp_h])
                    .filter(|ip| net.is_known_admin(*ip) || net.is_scanner(*ip)),
            );
            a.extend(light_marked);
            a
        } else {
            Default::default()
        },
    };
    let view: &dyn BaselineView = if priors { &with_priors } else { &baseline };
    let profile_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let Detected {
        alerts,
        incidents,
        suppressed,
    } = detect_held(
        detect_flows,
        detect_events,
        held,
        &logons,
        &directory,
        view,
        config,
        sigma,
    );
    let held_count = held.map_or(0, |h| h.store.len());
    let held_span = held.and_then(|h| h.store.span());
    Analysis {
        alerts,
        incidents,
        suppressed,
        cut,
        learned: baseline.period(),
        judged: [
            span(detect_flows, detect_events),
            unread.span,
            light_span,
            held_span,
        ]
        .into_iter()
        .flatten()
        .reduce(|(a, z), (b, y)| (a.min(b), z.max(y))),
        learn_counts,
        detect_counts: (
            detect_flows.len() + light_records,
            detect_events.len() + unread.events + held_count,
        ),
        baseline_hosts: baseline.host_count(),
        directory,
        priors,
        profile_secs,
        detect_secs: t1.elapsed().as_secs_f64(),
    }
}

/// Judges every record against a stored baseline (`--baseline`): nothing
/// is learned from the input itself.
pub fn analyze_against(
    flows: &[Flow],
    events: &[LogEvent],
    baseline: &crate::baseline::Baseline,
    config: &Config,
) -> Analysis {
    let period = match (baseline.meta.first, baseline.meta.last) {
        (Some(a), Some(z)) => Some((a, z)),
        _ => None,
    };
    analyze_against_profiles(
        flows,
        events,
        &baseline.profiles,
        &baseline.directory,
        period,
        config,
    )
}

/// Judges every record against profiles and their host directory,
/// covering `period`.
pub fn analyze_against_profiles(
    flows: &[Flow],
    events: &[LogEvent],
    profiles: &crate::profile::Profiles,
    hosts: &crate::hosts::HostDirectory,
    period: Option<(Timestamp, Timestamp)>,
    config: &Config,
) -> Analysis {
    let t0 = Instant::now();
    // The baseline's names first, then today's for hosts it never saw.
    let mut directory = Directory::from_hosts(hosts);
    directory.fill_from(&crate::hosts::build_directory_tied(events, flows, None));
    // A host the baseline knew by name only, whose address today's records
    // reveal, is one host with the address's profile: fold them, so that
    // its logons and flows are judged together as the learned path does.
    let folds = name_only_folds(profiles, &directory);
    let folded;
    let profiles = if folds.is_empty() {
        profiles
    } else {
        let mut p = profiles.clone();
        p.fold_hosts(&folds);
        folded = p;
        &folded
    };
    let view = crate::detect::profiles_view::ProfilesView::new(
        profiles,
        hosts,
        &directory,
        period,
        &config.network,
    );
    let profile_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let Detected {
        alerts,
        incidents,
        suppressed,
    } = detect(flows, events, &directory, &view, config);
    Analysis {
        alerts,
        incidents,
        suppressed,
        cut: period.map_or(Timestamp::default(), |p| p.1),
        learned: period,
        judged: span(flows, events),
        learn_counts: (0, 0),
        detect_counts: (flows.len(), events.len()),
        baseline_hosts: view.host_count(),
        directory,
        priors: false,
        profile_secs,
        detect_secs: t1.elapsed().as_secs_f64(),
    }
}

/// (name-only host, host of its address) pairs: profile hosts known by
/// name alone to which `directory` now gives an address another profile
/// host holds.
fn name_only_folds(
    profiles: &crate::profile::Profiles,
    directory: &Directory,
) -> Vec<(crate::hosts::HostKey, crate::hosts::HostKey)> {
    profiles
        .hosts()
        .iter()
        .filter(|h| h.key.is_named() && h.ips.is_empty())
        .filter_map(|h| {
            let ip = directory.addr_of(&h.key)?;
            let to = profiles.host_at(profiles.host_id_by_ip(ip)?)?;
            (to.key != h.key).then(|| (h.key.clone(), to.key.clone()))
        })
        .collect()
}

/// Runs every detector over records judged against `baseline` (and the
/// habits it shows), and builds incidents.
pub fn detect(
    flows: &[Flow],
    events: &[LogEvent],
    directory: &Directory,
    baseline: &dyn BaselineView,
    config: &Config,
) -> Detected {
    let logons = crate::detect::remote_logons(events, directory);
    detect_resolved(flows, events, &logons, directory, baseline, config)
}

/// [`detect`] with the remote logons among `events` already resolved
/// through `directory` ([`crate::detect::remote_logons`]).
pub fn detect_resolved(
    flows: &[Flow],
    events: &[LogEvent],
    logons: &[crate::detect::LogonView<'_>],
    directory: &Directory,
    baseline: &dyn BaselineView,
    config: &Config,
) -> Detected {
    detect_resolved_with(
        flows,
        events,
        logons,
        directory,
        baseline,
        config,
        Vec::new(),
    )
}

/// [`detect_resolved`] with `extra` alerts found before detection (Sigma
/// hits outside `events`) joined into the incidents alike. The
/// `sigma-match` events among `events` become alerts here too
/// ([`crate::sigma::alerts`]).
pub fn detect_resolved_with(
    flows: &[Flow],
    events: &[LogEvent],
    logons: &[crate::detect::LogonView<'_>],
    directory: &Directory,
    baseline: &dyn BaselineView,
    config: &Config,
    extra: Vec<Alert>,
) -> Detected {
    detect_held(
        flows, events, None, logons, directory, baseline, config, extra,
    )
}

/// [`detect_resolved_with`] with judged events `held` compactly beside
/// `events` (their network logons among `logons` already).
#[allow(clippy::too_many_arguments)]
fn detect_held(
    flows: &[Flow],
    events: &[LogEvent],
    held: Option<&crate::detect::HeldContext<'_>>,
    logons: &[crate::detect::LogonView<'_>],
    directory: &Directory,
    baseline: &dyn BaselineView,
    config: &Config,
    extra: Vec<Alert>,
) -> Detected {
    let others = crate::detect::other_attempts_with(events, held, logons, directory);
    let attempts = crate::detect::credential_attempts(logons, &others);
    let input = DetectInput {
        flows,
        events,
        logons,
        attempts: &attempts,
        directory,
        baseline,
        config,
    };
    let mut found = crate::detect::run_all(&input);
    found.extend(extra);
    found.extend(crate::sigma::alerts::from_events(events));
    let (mut alerts, suppressed) =
        crate::detect::suppress::split(found, &config.suppress, baseline, directory);
    crate::detect::involved::annotate(&mut alerts, baseline, directory);
    let incidents = incident::build(&mut alerts, &config.incident, baseline, directory);
    Detected {
        alerts,
        incidents,
        suppressed,
    }
}

/// What the detectors found: the alerts kept, their incidents, and the
/// alerts `[[suppress]]` entries took out.
#[derive(Debug, Clone)]
pub struct Detected {
    /// Alerts in output order, each with its incident id.
    pub alerts: Vec<Alert>,
    /// Incidents, ranked.
    pub incidents: Vec<Incident>,
    /// Alerts suppressed, in output order.
    pub suppressed: Vec<crate::detect::suppress::Suppressed>,
}

/// What a sweep kept out of the baseline it updates: the activity of its
/// incidents at medium severity or above, so an attacker's channel and
/// hosts are not learned as normal overnight (`sweep --update`, unless
/// `--fold-alerted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeptOut {
    /// Incidents whose activity was kept out.
    pub incidents: usize,
    /// Connection records left out.
    pub flows: usize,
    /// Log events left out.
    pub events: usize,
}

/// Today's profiles without the activity of `analysis`'s incidents at
/// medium or above: the records between two hosts of such an incident
/// (its alerts' sources, destinations and related addresses, in either
/// direction), and the events an incident's account caused on one of its
/// hosts. `None` when no incident reaches medium (today's profiles fold
/// in as they are).
pub fn without_alerted_activity(
    today: &crate::baseline::Today<'_>,
    analysis: &Analysis,
) -> Option<(crate::profile::Profiles, KeptOut)> {
    use crate::alert::Severity;
    use crate::model::HostKey;
    use rustc_hash::{FxHashMap, FxHashSet};
    let dir = &today.directory;
    let key_of = |h: &crate::alert::HostRef| dir.key_of(h.ip, h.name.as_deref());
    // Host to the hosts it shares an incident with (looked up by reference).
    let mut pairs: FxHashMap<HostKey, FxHashSet<HostKey>> = FxHashMap::default();
    // Host to the incident accounts whose events on it are kept out.
    let mut accounts_on: FxHashMap<HostKey, FxHashSet<String>> = FxHashMap::default();
    let mut kept = KeptOut::default();
    for inc in &analysis.incidents {
        if inc.severity() < Severity::Medium {
            continue;
        }
        kept.incidents += 1;
        let mut hosts: Vec<HostKey> = Vec::new();
        for a in inc.alerts.iter().filter_map(|i| analysis.alerts.get(*i)) {
            hosts.extend(a.source.as_ref().and_then(key_of));
            hosts.extend(a.destination.as_ref().and_then(key_of));
            hosts.extend(a.related_ips.iter().map(|ip| dir.key_for_ip(*ip)));
        }
        hosts.sort();
        hosts.dedup();
        for x in &hosts {
            for y in &hosts {
                if x != y {
                    pairs.entry(x.clone()).or_default().insert(y.clone());
                }
            }
            accounts_on
                .entry(x.clone())
                .or_default()
                .extend(inc.users.iter().map(|u| u.to_ascii_lowercase()));
        }
    }
    if kept.incidents == 0 {
        return None;
    }
    let paired = |a: &HostKey, b: &HostKey| pairs.get(a).is_some_and(|s| s.contains(b));
    let flows: Vec<Flow> = today
        .flows
        .iter()
        .filter(|f| !paired(&dir.key_for_ip(f.orig_h), &dir.key_for_ip(f.resp_h)))
        .cloned()
        .collect();
    kept.flows = today.flows.len() - flows.len();
    let events: Vec<LogEvent> = today
        .events
        .iter()
        .filter(|e| {
            let writer = dir.key_of(e.host_ip, e.host_name.as_deref());
            let from = dir.key_of(e.source_ip, e.source_domain.as_deref());
            let between = matches!((&from, &writer), (Some(s), Some(w)) if paired(s, w));
            let by_account = match (e.user_name.as_deref(), &writer) {
                (Some(u), Some(w)) => accounts_on
                    .get(w)
                    .is_some_and(|s| s.contains(&u.trim().to_ascii_lowercase())),
                _ => false,
            };
            !(between || by_account)
        })
        .cloned()
        .collect();
    kept.events = today.events.len() - events.len();
    let profiles = crate::profile::build_parallel(today.directory.clone(), &flows, &events);
    Some((profiles, kept))
}

/// What [`read_and_learn`] read and learned.
#[derive(Debug)]
pub struct StreamedRead {
    /// The inputs' reports; in `events` the log events from the cut on
    /// with their Sigma hits, sorted as a run sorts them; every connection
    /// record in `flows`.
    pub run: crate::collect::pipeline::EventRun,
    /// The learning part, learned.
    pub learned: Learned,
    /// The cut.
    pub cut: Timestamp,
    /// The time span of every record read.
    pub whole: Option<(Timestamp, Timestamp)>,
    /// Judged events not in `run.events`: no consumer reads them.
    pub unread: Unread,
    /// Judged events not in `run.events`: held compactly
    /// ([`crate::profile::held`]).
    pub held: HeldLogons,
}

/// Reads `paths` (files that can be read twice:
/// [`crate::profile::stream::can_stream`]) with the learning part, cut
/// by `learning`, folded into profiles as it is read and never held
/// ([`crate::profile::stream`]). `hits` (Sigma hits, read apart) are
/// learned or judged by their time as the inputs' events are. The judged
/// records and the learned part then give, through [`analyze_learned`],
/// what [`analyze`] gives over every record. With `reader`, only the
/// judged events some consumer reads are kept ([`StreamedRead::unread`]
/// counts the others); without, all are. With `spill` (`--memory-limit`),
/// the learning builders spill to disk past their share of its limit; what
/// is learned is the same.
#[allow(clippy::too_many_arguments)]
pub fn read_and_learn(
    paths: &[crate::input::InputPath],
    path_errors: Vec<crate::Error>,
    opts: &crate::collect::pipeline::FlowRunOptions,
    logs: &crate::collect::pipeline::LogOptions,
    progress: &std::sync::atomic::AtomicU64,
    hits: Vec<LogEvent>,
    learning: Learning,
    reader: Option<&crate::detect::JudgedReader>,
    spill: Option<&crate::profile::spill::Spiller>,
) -> std::io::Result<StreamedRead> {
    let cut_of =
        |whole: Option<(Timestamp, Timestamp)>| Some(cut_point(learning.resolve(whole), whole));
    let reads = reader.map(|r| move |e: &LogEvent| r.reads(e));
    let plan = crate::profile::stream::Plan {
        cut: &cut_of,
        directory_before_cut: false,
        fixed_cut: None,
        keep_judged: true,
        judged_reads: reads
            .as_ref()
            .map(|r| r as &(dyn Fn(&LogEvent) -> bool + Sync)),
        judged_held: Some(&crate::detect::held_compactly),
        failures_needed: reader.map_or(0, crate::detect::JudgedReader::failures_needed),
        source_failure: Some(&crate::detect::rules::read_as_source_failure),
        hosts: None,
        spill,
    };
    let s = crate::profile::stream::learn(paths, path_errors, opts, logs, progress, &hits, &plan)?;
    let cut = s.cut.unwrap_or_default();
    let (learn_hits, judged_hits): (Vec<LogEvent>, Vec<LogEvent>) =
        hits.into_iter().partition(|e| e.ts < cut);
    let mut marks = s.learn_marks;
    crate::sigma::scan::merge_events(&mut marks, learn_hits);
    let mut run = s.run;
    crate::sigma::scan::merge_events(&mut run.events, judged_hits);
    Ok(StreamedRead {
        run,
        learned: Learned {
            names: s.directory,
            profiles: s.profiles,
            span: s.learned,
            counts: s.learn_counts,
            sigma: crate::sigma::alerts::from_events(&marks),
        },
        cut,
        whole: s.whole,
        unread: s.unread,
        held: s.held,
    })
}
