//! `lateral.remote-process`: a process started by one of Windows' remote
//! execution hosts shortly after a network logon, read from the target's
//! process creations (4688 with its parent, Sysmon 1) alone: no baseline.
//!
//! ## What it detects
//! On one host, a process creation whose lineage is a remote-execution
//! channel:
//! - `WmiPrvSE.exe` starting a shell or script host (WMI
//!   `Win32_Process.Create`, T1047);
//! - `wsmprovhost.exe` starting one (PowerShell remoting, T1021.006);
//! - `mmc.exe`, or an Office application, started by the DCOM launcher
//!   with `-Embedding` (MMC20.Application, Excel.Application), or
//!   starting a shell (T1021.003);
//! - `services.exe` starting a shell directly (smbexec-style service
//!   command lines, T1569.002);
//! - `taskeng.exe` starting one (a remotely registered task, T1053.005);
//!
//! within `window_minutes` after a successful network logon (type 3) of a
//! person's account on that host from another host. That logon's source
//! is the hop's source.
//!
//! ## Why it matters
//! These are the footprints that WMI, WinRM, DCOM and service-based
//! execution leave on the target whatever tool drove them; the network
//! logon says who came in.
//!
//! ## Evidence
//! The network logon and the process creations.
//!
//! ## False positives
//! Management software running commands through WMI or WinRM from a
//! management server: configure it in `[network] known_admins`; a source
//! that habitually installs services or uses admin shares on the host in
//! the baseline is skipped as well. A local user's own WMI or MMC use has
//! no network logon before it and is not flagged.
//!
//! ## Tuning
//! `[detect.remote_exec] window_minutes`; `[network] known_admins`.

use crate::alert::{Alert, Rule, Technique, attack};
use crate::detect::common::{LogonView, clamp_score, log_evidence, minutes, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::LogEvent;
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.remote-process",
    name: "Process started by remote execution",
    description: "WmiPrvSE, wsmprovhost, a DCOM-launched MMC or Office, services.exe or taskeng started a process shortly after a network logon.",
};

/// T1047: Windows Management Instrumentation.
pub const WMI: Technique = Technique {
    tactic: "Execution",
    id: "T1047",
    name: "Windows Management Instrumentation",
};

/// T1053.005: Scheduled Task/Job: Scheduled Task.
pub const SCHEDULED_TASK: Technique = Technique {
    tactic: "Execution",
    id: "T1053.005",
    name: "Scheduled Task/Job: Scheduled Task",
};

/// Programs an attacker's command runs as: shells, script hosts and
/// the usual proxies.
const PAYLOADS: &[&str] = &[
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "cscript.exe",
    "wscript.exe",
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "msbuild.exe",
    "certutil.exe",
    "bitsadmin.exe",
];

/// Applications the DCOM launcher starts for a remote caller.
const DCOM_SERVERS: &[&str] = &["mmc.exe", "excel.exe", "winword.exe", "outlook.exe"];

/// The file name of a Windows path, lower case (`C:\A\B.exe` → `b.exe`).
pub fn image_name(path: &str) -> String {
    let p = path.trim().trim_matches('"');
    let name = p.rsplit(['\\', '/']).next().unwrap_or(p);
    name.to_ascii_lowercase()
}

/// The channel a process creation's lineage shows, if any.
pub fn channel(e: &LogEvent) -> Option<Technique> {
    if e.action != Action::ProcessCreated {
        return None;
    }
    let child = image_name(e.process_executable()?);
    let parent = image_name(e.label("parent_process_name")?);
    let payload = PAYLOADS.contains(&child.as_str());
    let embedding = e.process_command_line().is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("-embedding") || c.contains("/automation")
    });
    match parent.as_str() {
        "wmiprvse.exe" if payload => Some(WMI),
        "wsmprovhost.exe" if payload => Some(attack::WINRM),
        "svchost.exe" if embedding && DCOM_SERVERS.contains(&child.as_str()) => Some(attack::DCOM),
        p if payload && DCOM_SERVERS.contains(&p) => Some(attack::DCOM),
        "services.exe" if payload => Some(attack::SERVICE_EXECUTION),
        "taskeng.exe" if payload => Some(SCHEDULED_TASK),
        _ => None,
    }
}

/// The detector.
pub struct RemoteProcess;

/// How far a process creation may be logged before the logon that caused
/// it (the two come from different components), nanoseconds.
const LOGON_LAG: i64 = 5_000_000_000;

impl Detector for RemoteProcess {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let b = input.baseline;
        let net = &input.config.network;
        let window = minutes(input.config.detect.remote_exec.window_minutes);
        // Each host's successful network logons of people from elsewhere.
        let mut logons: BTreeMap<&HostKey, Vec<&LogonView<'_>>> = BTreeMap::new();
        for v in input.logons {
            let e = v.event();
            if !succeeded(e) || e.logon_type != Some(3) || v.user.is_none() {
                continue;
            }
            if !v.is_between_hosts() {
                continue;
            }
            if let Some(d) = &v.dst {
                logons.entry(d).or_default().push(v);
            }
        }
        if logons.is_empty() {
            return Vec::new();
        }
        type Hit<'a> = (&'a LogonView<'a>, Vec<&'a LogEvent>);
        let mut hits: BTreeMap<(HostKey, HostKey, Technique), Hit<'_>> = BTreeMap::new();
        for e in input.events {
            let Some(technique) = channel(e) else {
                continue;
            };
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            let Some(list) = logons.get(&host) else {
                continue;
            };
            // The latest logon before the process (or just after it).
            let Some(logon) = list
                .iter()
                .rev()
                .find(|v| {
                    v.ts().0 <= e.ts.0.saturating_add(LOGON_LAG)
                        && e.ts.0.saturating_sub(v.ts().0) <= window
                })
                .copied()
            else {
                continue;
            };
            let Some(src) = logon.src.clone() else {
                continue;
            };
            let known = b.remote_exec_seen(&src, &host)
                || logon
                    .event()
                    .source_ip
                    .is_some_and(|ip| net.is_known_admin(ip));
            if known {
                continue;
            }
            hits.entry((src, host, technique))
                .or_insert((logon, Vec::new()))
                .1
                .push(e);
        }
        let mut alerts = Vec::new();
        for ((_, host, technique), (logon, procs)) in hits {
            let Some(first) = procs.first() else {
                continue;
            };
            let score = if technique == attack::DCOM && procs.len() == 1 {
                65.0
            } else {
                75.0
            };
            let start = logon.ts().min(first.ts);
            let mut a = Alert::new(RULE, technique, clamp_score(score), start);
            a.source = logon.src_ref(dir);
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| Some(dir.host_of(&host)));
            a.user = logon.user.as_ref().map(|u| u.to_string());
            let lineage: std::collections::BTreeSet<String> = procs
                .iter()
                .map(|p| {
                    format!(
                        "{} -> {}",
                        p.label("parent_process_name")
                            .map(image_name)
                            .unwrap_or_default(),
                        p.process_executable().map(image_name).unwrap_or_default()
                    )
                })
                .collect();
            a.message = format!(
                "{} started {} on {} within {} minutes of a network logon as {} from {}",
                lineage.into_iter().collect::<Vec<_>>().join(", "),
                if procs.len() == 1 {
                    "once".to_string()
                } else {
                    format!("{} times", procs.len())
                },
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                input.config.detect.remote_exec.window_minutes,
                a.user.as_deref().unwrap_or("?"),
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label())
            );
            a.movement = true;
            a.add_evidence(logon.evidence());
            for p in &procs {
                a.add_evidence(log_evidence(p));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
