//! `Microsoft-Windows-Sysmon/Operational`: processes, connections, lsass
//! access, files, registry service and Run keys, named pipes and DNS
//! queries (see the table in the module above).

use super::{EventData, bounded, contains_ci, ends_with_ci, label, port, split_user};
use crate::model::Action;
use crate::model::event::{Category, LogEvent, Outcome, Text as EventText};
use std::net::IpAddr;

/// Fills `e` for Sysmon event `id`; false for ids (or records) not mapped.
pub(super) fn map(id: u32, d: &EventData<'_>, e: &mut LogEvent) -> bool {
    let user = |e: &mut LogEvent| {
        (e.user_name, e.user_domain) = split_user(d.User.get());
    };
    match id {
        1 => {
            e.category = Some(Category::Process);
            e.action = Action::ProcessCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            e.set_process_command_line(d.CommandLine.owned());
            user(e);
            label(e, "parent_process_name", d.ParentImage.get());
            label(e, "parent_command_line", d.ParentCommandLine.get());
            label(e, "hashes", d.Hashes.get());
            label(e, "process_id", d.ProcessId.get());
            label(e, "parent_process_id", d.ParentProcessId.get());
        }
        3 => {
            e.category = Some(Category::Network);
            e.action = Action::NetworkConnection;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            user(e);
            // Sysmon writes the initiator as Source on both sides of a
            // connection: inbound (Initiated false), SourceIp is the peer.
            e.source_ip = d.SourceIp.get().and_then(|s| s.parse().ok());
            e.source_port = port(&d.SourcePort);
            e.source_domain = d.SourceHostname.owned();
            e.destination_ip = d.DestinationIp.get().and_then(|s| s.parse().ok());
            e.destination_port = port(&d.DestinationPort);
            e.destination_domain = d.DestinationHostname.owned();
            let direction = match d.Initiated.get() {
                Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Some("egress"),
                Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Some("ingress"),
                _ => None,
            };
            label(e, "direction", direction);
        }
        7 => {
            // Only libraries loaded into lsass (security packages, injected
            // credential stealers); the rest are many and say little.
            if !d.Image.get().is_some_and(is_lsass) {
                return false;
            }
            e.category = Some(Category::Process);
            e.action = Action::ImageLoaded;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            user(e);
            label(e, "image_loaded", d.ImageLoaded.get());
            label(e, "signed", d.Signed.get());
            label(e, "signature", d.Signature.get());
        }
        8 => {
            e.category = Some(Category::Process);
            e.action = Action::RemoteThreadCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.SourceImage.owned());
            (e.user_name, e.user_domain) = split_user(d.SourceUser.get());
            label(e, "target_image", d.TargetImage.get());
            label(e, "source_process_id", d.SourceProcessId.get());
            label(e, "start_module", d.StartModule.get());
            label(e, "start_function", d.StartFunction.get());
        }
        10 => {
            // Process access is mapped for lsass alone: credential dumping.
            if !d.TargetImage.get().is_some_and(is_lsass) {
                return false;
            }
            e.category = Some(Category::Process);
            e.action = Action::LsassAccessed;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.SourceImage.owned());
            (e.user_name, e.user_domain) = split_user(d.SourceUser.get());
            label(e, "target_image", d.TargetImage.get());
            label(e, "granted_access", d.GrantedAccess.get());
            label(e, "source_process_id", d.SourceProcessId.get());
        }
        11 => {
            e.action = Action::FileCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            user(e);
            label(e, "target_filename", d.TargetFilename.get());
            label(e, "process_id", d.ProcessId.get());
            // The System process (pid 4) writes the files SMB clients create.
            let system = d.ProcessId.get() == Some("4")
                || d.Image
                    .get()
                    .is_some_and(|i| i.eq_ignore_ascii_case("System"));
            if system {
                label(e, "written_by_system", Some("true"));
            }
        }
        12 | 13 => {
            let Some(key) = d.TargetObject.get() else {
                return false;
            };
            let Some(kind) = registry_kind(key) else {
                return false;
            };
            e.action = if id == 12 {
                Action::RegistryKeyChanged
            } else {
                Action::RegistryValueSet
            };
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            user(e);
            if kind == "service" {
                e.set_service_name(service_of(key).map(|s| EventText::from(bounded(s, 256))));
            }
            label(e, "registry_key", Some(key));
            label(e, "registry_kind", Some(kind));
            label(e, "registry_event_type", d.EventType.get());
            label(
                e,
                "registry_data",
                d.Details.get().map(|s| bounded(s, super::MAX_SCRIPT)),
            );
        }
        17 | 18 => {
            e.action = if id == 17 {
                Action::PipeCreated
            } else {
                Action::PipeConnected
            };
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            user(e);
            let pipe = d.PipeName.get().map(super::xml::decode_entities);
            label(e, "pipe_name", pipe.as_deref());
            label(e, "pipe_tool", pipe.as_deref().and_then(pipe_tool));
        }
        22 => {
            e.category = Some(Category::Network);
            e.action = Action::DnsQuery;
            e.set_process_executable(d.Image.owned());
            user(e);
            e.set_dns_question(d.QueryName.owned_max(256));
            let status = d.QueryStatus.get();
            e.outcome = Some(match status {
                Some("0") => Outcome::Success,
                Some(_) => Outcome::Failure,
                None => Outcome::Unknown,
            });
            if status.is_some_and(|s| s != "0") {
                e.set_status(status.map(|s| EventText::from(bounded(s, 32))));
            }
            for answer in dns_answers(d.QueryResults.get().unwrap_or("")) {
                e.push_dns_answer(answer.into());
            }
        }
        _ => return false,
    }
    true
}

/// True for a path naming lsass.exe.
fn is_lsass(path: &str) -> bool {
    path.eq_ignore_ascii_case("lsass.exe") || ends_with_ci(path, "\\lsass.exe")
}

/// `service` for a key under `…\Services\`, `run-key` for the Run keys
/// (Run, RunOnce, RunOnceEx, RunServices…), `None` for other keys.
fn registry_kind(key: &str) -> Option<&'static str> {
    if contains_ci(key, "\\CurrentControlSet\\Services\\")
        || contains_ci(key, "\\ControlSet001\\Services\\")
        || contains_ci(key, "\\ControlSet002\\Services\\")
    {
        Some("service")
    } else if contains_ci(key, "\\Microsoft\\Windows\\CurrentVersion\\Run") {
        Some("run-key")
    } else {
        None
    }
}

/// The service a key under `…\Services\NAME\…` belongs to.
fn service_of(key: &str) -> Option<&str> {
    let lower = key.to_ascii_lowercase();
    let at = lower.find("\\services\\")? + "\\services\\".len();
    let rest = key.get(at..)?;
    let name = rest.split('\\').next()?;
    (!name.is_empty()).then_some(name)
}

/// The lateral-movement tool a named pipe's name points to.
fn pipe_tool(pipe: &str) -> Option<&'static str> {
    let p = pipe.trim_start_matches('\\').to_ascii_lowercase();
    if p.starts_with("psexesvc") {
        Some("psexec")
    } else if p.starts_with("remcom") {
        Some("remcom")
    } else if p.starts_with("paexec") {
        Some("paexec")
    } else if (p.starts_with("msse-") && p.ends_with("-server"))
        || p.starts_with("postex_")
        || p.starts_with("status_")
        || p.starts_with("msagent_")
    {
        Some("cobalt-strike")
    } else {
        None
    }
}

/// Addresses and names of Sysmon's QueryResults (`type:  5 host.corp;
/// ::ffff:10.0.0.5;`): IPv4-mapped addresses as IPv4, CNAME-style
/// records as their name; at most 32.
fn dns_answers(results: &str) -> Vec<String> {
    results
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "-")
        .filter_map(|s| {
            if let Some(rest) = s.strip_prefix("type:") {
                let name = rest.split_whitespace().last()?;
                return Some(bounded(name, 256).to_string());
            }
            let ip: IpAddr = s.parse().ok()?;
            Some(match ip {
                IpAddr::V6(v6) => v6
                    .to_ipv4_mapped()
                    .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
                v4 => v4.to_string(),
            })
        })
        .take(32)
        .collect()
}
