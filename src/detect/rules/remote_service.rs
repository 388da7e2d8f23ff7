//! `lateral.remote-service`: a service or scheduled task created on a host
//! through its RPC interface over the network, read from the host's own
//! records (no baseline, and no logon event needed).
//!
//! ## What it detects
//! On one host, a service installation (7045, 4697) within
//! `window_minutes` after another host opened the service-control
//! interface there, or a scheduled task registration (4698) within the
//! window after another host opened the task-scheduler interface. The
//! interface is read from the event's fields, whoever wrote it: the named
//! pipe of an `IPC$` access (5145 `svcctl`; `atsvc`), or the endpoint of an
//! RPC call (`svcctl`, `atsvc`, `ITaskSchedulerService`) seen on the wire.
//! The source is the address that opened the interface: many samples hold
//! the pipe access and the installation but no logon.
//!
//! ## Why it matters
//! `sc \\host create`, PsExec, Impacket's `psexec`/`smbexec` and
//! `schtasks /S`/`at \\host` all create the service or task through
//! these interfaces: ATT&CK T1569.002 (Service Execution), T1053.005
//! (Scheduled Task), moving laterally over T1021.002.
//!
//! ## Evidence
//! The interface access and the creation.
//!
//! ## False positives
//! Remote administration and software deployment that create services or
//! tasks from a management server: configure it in `[network]
//! known_admins`; a source the baseline saw installing services or using
//! admin shares on the host is skipped. An administrator installing a
//! service locally opens no interface from another host and is not
//! flagged.
//!
//! ## Tuning
//! `[detect.remote_exec] window_minutes`; `[network] known_admins`.

use crate::alert::{Alert, Rule, Technique, attack};
use crate::detect::common::{clamp_score, log_evidence, minutes};
use crate::detect::rules::remote_process::SCHEDULED_TASK;
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::LogEvent;
use std::collections::{BTreeMap, VecDeque};

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.remote-service",
    name: "Service or task created over the network",
    description: "Another host opened the service-control or task-scheduler interface of a host, which then installed a service or registered a task.",
};

/// What a remote interface creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Services (`svcctl`).
    Service,
    /// Scheduled tasks (`atsvc`, `ITaskSchedulerService`).
    Task,
}

impl Kind {
    fn technique(self) -> Technique {
        match self {
            Kind::Service => attack::SERVICE_EXECUTION,
            Kind::Task => SCHEDULED_TASK,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Task => "task",
        }
    }
}

/// The kind of interface an event opens, if it opens one: an `IPC$` pipe
/// access or an RPC call.
fn opened(e: &LogEvent) -> Option<Kind> {
    let name = match e.action {
        Action::ShareAccessed | Action::ShareObjectChecked => e.label("pipe_name")?,
        Action::RpcCall => e.rpc_endpoint()?,
        _ => return None,
    };
    let name = name.trim().trim_start_matches('\\').to_ascii_lowercase();
    match name.as_str() {
        "svcctl" => Some(Kind::Service),
        "atsvc" | "itaskschedulerservice" => Some(Kind::Task),
        _ => None,
    }
}

/// The kind of thing an event creates, if any.
fn created(e: &LogEvent) -> Option<Kind> {
    match e.action {
        Action::ServiceInstalled => Some(Kind::Service),
        Action::ScheduledTaskCreated => Some(Kind::Task),
        _ => None,
    }
}

/// True for the events this rule can read: interfaces opened and
/// services or tasks created (the judged-record filter, [`super::READERS`]).
pub(crate) fn reads(e: &LogEvent) -> bool {
    opened(e).is_some() || created(e).is_some()
}

/// The detector.
pub struct RemoteService;

impl Detector for RemoteService {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let b = input.baseline;
        let net = &input.config.network;
        let window = minutes(input.config.detect.remote_exec.window_minutes);
        // Per target host: the interfaces opened there lately, oldest first.
        type Opened<'a> = (Kind, HostKey, &'a LogEvent);
        let mut recent: BTreeMap<HostKey, VecDeque<Opened<'_>>> = BTreeMap::new();
        type Hit<'a> = (Vec<&'a LogEvent>, Vec<&'a LogEvent>);
        let mut hits: BTreeMap<(HostKey, HostKey, Kind), Hit<'_>> = BTreeMap::new();
        for e in input.events {
            if let Some(kind) = opened(e) {
                // The interface's host: the writer, or the far end on the wire.
                let host = dir
                    .key(e.host_ip, e.host_name.as_deref())
                    .or_else(|| dir.key(e.destination_ip, e.destination_domain.as_deref()));
                let src = dir.key(e.source_ip, e.source_domain.as_deref());
                if let (Some(host), Some(src)) = (host, src)
                    && host != src
                    && !e.source_ip.is_some_and(|ip| net.is_known_admin(ip))
                {
                    recent.entry(host).or_default().push_back((kind, src, e));
                }
                continue;
            }
            let Some(kind) = created(e) else {
                continue;
            };
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            let Some(list) = recent.get_mut(&host) else {
                continue;
            };
            while list
                .front()
                .is_some_and(|(_, _, o)| e.ts.0.saturating_sub(o.ts.0) > window)
            {
                list.pop_front();
            }
            let Some((_, src, open)) = list.iter().rev().find(|(k, _, _)| *k == kind) else {
                continue;
            };
            if b.remote_exec_seen(src, &host) {
                continue;
            }
            let hit = hits.entry((src.clone(), host, kind)).or_default();
            if !hit.0.iter().any(|o| std::ptr::eq(*o, *open)) {
                hit.0.push(open);
            }
            hit.1.push(e);
        }
        let mut alerts = Vec::new();
        for ((_, host, kind), (opens, made)) in hits {
            let (Some(open), Some(first)) = (opens.first(), made.first()) else {
                continue;
            };
            let mut a = Alert::new(
                RULE,
                kind.technique(),
                clamp_score(80.0),
                open.ts.min(first.ts),
            );
            a.source = dir.host(open.source_ip, open.source_domain.as_deref());
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| Some(dir.host_of(&host)));
            a.user = crate::detect::common::user_of(open).map(|u| u.to_string());
            let names: std::collections::BTreeSet<String> = made
                .iter()
                .filter_map(|e| {
                    e.service_name()
                        .or(e.label("task_name"))
                        .or(e.process_executable())
                        .map(str::to_string)
                })
                .collect();
            a.message = format!(
                "{} {} created on {} within {} minutes of {} opening its {} interface ({})",
                kind.noun(),
                if names.is_empty() {
                    "?".to_string()
                } else {
                    names.into_iter().collect::<Vec<_>>().join(", ")
                },
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                input.config.detect.remote_exec.window_minutes,
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                match kind {
                    Kind::Service => "service-control",
                    Kind::Task => "task-scheduler",
                },
                opened_name(open)
            );
            a.movement = true;
            for e in opens.iter().chain(made.iter()) {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}

/// How an opening event names its interface, for messages.
fn opened_name(e: &LogEvent) -> String {
    match e.label("pipe_name") {
        Some(p) => format!("pipe {p}"),
        None => format!("RPC {}", e.rpc_endpoint().unwrap_or("?")),
    }
}
