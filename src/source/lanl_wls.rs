//! The LANL 2017 Unified Host and Network data set's host events
//! (`wls_day-NN`, Windows Logging Service), one JSON object per line, in
//! normalised events out.
//!
//! Each record has `Time` (seconds from the data set's start), `EventID`
//! and `LogHost`, plus fields that depend on the event: `UserName`,
//! `DomainName`, `LogonID`, `LogonType`, `LogonTypeDescription`, `Source`,
//! `Destination`, `AuthenticationPackage`, `Status`, `FailureReason`,
//! `SubjectUserName`, `SubjectDomainName`, `SubjectLogonID`, `ServiceName`,
//! `ProcessName`, `ProcessID`, `ParentProcessName`, `ParentProcessID`.
//! The Windows ids go through the same mapping as Windows exports
//! ([`winsec::map_event`]), under the Windows names of these fields; the
//! ids only this data set carries (4770, 4774, 4800-4803, 4689, 4608,
//! 4609, 1100) are mapped here. `Source` and `Destination` are computers
//! (`Comp123456`), so they go to `source.domain` and `destination.domain`.

use crate::model::Action;
use crate::model::event::{Category, LogEvent, Outcome, Text as EventText, Timestamp};
use crate::source::winsec::{self, EventData, Header, Text};
use crate::source::{LineFormat, Skip};
use serde::Deserialize;

/// The fields of one wls record (anything else in the line is ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
struct Record<'a> {
    #[serde(borrow)]
    Time: Text<'a>,
    #[serde(borrow)]
    EventID: Text<'a>,
    #[serde(borrow)]
    LogHost: Text<'a>,
    #[serde(borrow)]
    UserName: Text<'a>,
    #[serde(borrow)]
    DomainName: Text<'a>,
    #[serde(borrow)]
    LogonID: Text<'a>,
    #[serde(borrow)]
    LogonType: Text<'a>,
    #[serde(borrow)]
    Source: Text<'a>,
    #[serde(borrow)]
    Destination: Text<'a>,
    #[serde(borrow)]
    AuthenticationPackage: Text<'a>,
    #[serde(borrow)]
    Status: Text<'a>,
    #[serde(borrow)]
    FailureReason: Text<'a>,
    #[serde(borrow)]
    SubjectUserName: Text<'a>,
    #[serde(borrow)]
    SubjectDomainName: Text<'a>,
    #[serde(borrow)]
    ServiceName: Text<'a>,
    #[serde(borrow)]
    ProcessName: Text<'a>,
    #[serde(borrow)]
    ProcessID: Text<'a>,
    #[serde(borrow)]
    ParentProcessName: Text<'a>,
    #[serde(borrow)]
    ParentProcessID: Text<'a>,
}

/// `wls_day-NN` lines, with the epoch their times count from.
#[derive(Debug, Clone, Copy)]
pub struct WlsLines {
    /// The instant time 0 stands for.
    pub epoch: Timestamp,
}

/// True when the first line is a wls record: a JSON object with
/// `LogHost`, `EventID` and `Time`.
pub fn looks_like_wls(head: &[u8]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let has = |k: &[u8]| memchr::memmem::find(first, k).is_some();
    first.trim_ascii_start().starts_with(b"{")
        && has(b"\"LogHost\"")
        && has(b"\"EventID\"")
        && has(b"\"Time\"")
}

/// Category and action of the ids only this data set carries.
fn lanl_only(id: u32) -> Option<(Category, Action)> {
    Some(match id {
        4770 => (Category::Authentication, Action::KerberosTicketRenewed),
        4774 => (Category::Authentication, Action::AuthMap),
        4800 => (Category::Session, Action::ScreenLocked),
        4801 => (Category::Authentication, Action::ScreenUnlocked),
        4802 => (Category::Session, Action::ScreensaverInvoked),
        4803 => (Category::Session, Action::ScreensaverDismissed),
        4689 => (Category::Process, Action::ProcessEnded),
        4608 => (Category::Session, Action::SystemStarted),
        4609 | 1100 => (Category::Session, Action::SystemStopped),
        _ => return None,
    })
}

impl LineFormat for WlsLines {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let r: Record<'_> =
            serde_json::from_slice(line).map_err(crate::source::winsec::json_skip)?;
        let id: u32 = r
            .EventID
            .get()
            .ok_or(Skip("no event id"))?
            .parse()
            .map_err(|_| Skip("event id is not a number"))?;
        let secs: i64 = r
            .Time
            .get()
            .ok_or(Skip("LANL wls record without a time"))?
            .parse()
            .map_err(|_| Skip("LANL time is not a number of seconds"))?;
        let ts = Timestamp(
            self.epoch
                .0
                .saturating_add(secs.saturating_mul(crate::model::event::NANOS_PER_SEC)),
        );
        let mut data = EventData::default();
        data.TargetUserName = r.UserName.clone();
        data.TargetDomainName = r.DomainName.clone();
        data.SubjectUserName = r.SubjectUserName.clone();
        data.SubjectDomainName = r.SubjectDomainName.clone();
        data.LogonType = r.LogonType.clone();
        data.AuthenticationPackageName = r.AuthenticationPackage.clone();
        data.Status = r.Status.clone();
        data.TargetServerName = r.Destination.clone();
        data.ServiceName = r.ServiceName.clone();
        data.NewProcessName = r.ProcessName.clone();
        data.WorkstationName = r.Source.clone();
        data.LogonID = r.LogonID.clone();
        let header = Header {
            event_id: Some(id),
            channel: None,
            computer: r.LogHost.0.clone(),
            ts: Some(ts),
        };
        let mut e = match winsec::map_event(&header, &data) {
            Some(e) => e,
            None => {
                let Some((category, action)) = lanl_only(id) else {
                    // Counted as a record; not an event lateral uses.
                    return Ok(());
                };
                let mut e = LogEvent {
                    ts,
                    code: Some(id),
                    category: Some(category),
                    action,
                    outcome: Some(Outcome::Success),
                    host_name: r.LogHost.get().map(EventText::from),
                    user_name: r.UserName.get().map(EventText::from),
                    user_domain: r.DomainName.get().map(EventText::from),
                    ..LogEvent::default()
                };
                e.set_process_executable(r.ProcessName.get().map(EventText::from));
                e
            }
        };
        e.dataset = "lanl.wls".into();
        // Computers, not addresses: the record's own names win.
        e.source_domain = r.Source.get().map(EventText::from);
        e.destination_domain = r.Destination.get().map(EventText::from);
        if e.status().is_none() {
            e.set_status(r.FailureReason.get().map(EventText::from));
        }
        for (key, v) in [
            ("lanl_logon_id", &r.LogonID),
            ("process_id", &r.ProcessID),
            ("parent_process_name", &r.ParentProcessName),
            ("parent_process_id", &r.ParentProcessID),
        ] {
            if let Some(v) = v.get() {
                e.push_label(key.into(), v.into());
            }
        }
        out.push(e);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Vec<LogEvent>, Skip> {
        let mut out = Vec::new();
        WlsLines {
            epoch: Timestamp::from_parts(1_000, 0),
        }
        .parse_line(line.as_bytes(), &mut out)?;
        Ok(out)
    }

    #[test]
    fn a_network_logon_names_user_computers_and_package() {
        let e = parse(
            r#"{"UserName":"User624729","EventID":4624,"LogHost":"Comp883934","LogonID":"0x5c7d9a1","DomainName":"Domain001","LogonTypeDescription":"Network","Source":"Comp110781","AuthenticationPackage":"Kerberos","Time":86400,"LogonType":3}"#,
        )
        .unwrap();
        let [e] = e.as_slice() else { panic!("{e:?}") };
        assert_eq!(e.ts, Timestamp::from_parts(1_000 + 86_400, 0));
        assert_eq!(e.action, Action::LoggedIn);
        assert_eq!(e.code, Some(4624));
        assert_eq!(e.dataset, "lanl.wls");
        assert_eq!(e.host_name.as_deref(), Some("Comp883934"));
        assert_eq!(e.source_domain.as_deref(), Some("Comp110781"));
        assert_eq!(e.user_name.as_deref(), Some("User624729"));
        assert_eq!(e.user_domain.as_deref(), Some("Domain001"));
        assert_eq!(e.logon_type, Some(3));
        assert_eq!(e.auth_method.as_deref(), Some("Kerberos"));
        assert_eq!(
            e.labels().collect::<Vec<_>>(),
            [("lanl_logon_id", "0x5c7d9a1")]
        );
    }

    #[test]
    fn failures_explicit_credentials_processes_and_lanl_only_ids() {
        let e = parse(r#"{"EventID":4625,"LogHost":"Comp1","UserName":"User9","DomainName":"Domain001","Source":"Comp2","LogonType":3,"AuthenticationPackage":"NTLM","Status":"0xC000006D","FailureReason":"Unknown user name or bad password.","Time":5}"#).unwrap();
        assert_eq!(e[0].action, Action::LogonFailed);
        assert_eq!(e[0].outcome, Some(Outcome::Failure));
        assert!(e[0].status().unwrap().contains("0xC000006D"));
        let e = parse(r#"{"EventID":4648,"LogHost":"Comp1","UserName":"User9","SubjectUserName":"User8","Destination":"Comp7","Time":6}"#).unwrap();
        assert_eq!(e[0].action, Action::ExplicitCredentialLogon);
        assert_eq!(e[0].destination_domain.as_deref(), Some("Comp7"));
        let e = parse(r#"{"EventID":4688,"LogHost":"Comp1","UserName":"User9","ProcessName":"cmd.exe","ProcessID":"0x1f4","ParentProcessName":"explorer","ParentProcessID":"0x10","Time":7}"#).unwrap();
        assert_eq!(e[0].process_executable(), Some("cmd.exe"));
        assert!(
            e[0].labels()
                .any(|(k, v)| k == "parent_process_name" && v == "explorer")
        );
        let e = parse(r#"{"EventID":4800,"LogHost":"Comp1","UserName":"User9","Time":8}"#).unwrap();
        assert_eq!(e[0].action, Action::ScreenLocked);
        assert_eq!(e[0].host_name.as_deref(), Some("Comp1"));
        // Known shape, id not used: a record without events.
        assert!(
            parse(r#"{"EventID":5156,"LogHost":"Comp1","Time":9}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_records_are_skipped_with_a_reason() {
        assert_eq!(
            parse("{\"EventID\":4624").unwrap_err().0,
            "not a JSON object"
        );
        assert_eq!(
            parse(r#"{"LogHost":"C","Time":1}"#).unwrap_err().0,
            "no event id"
        );
        assert_eq!(
            parse(r#"{"EventID":"x","LogHost":"C","Time":1}"#)
                .unwrap_err()
                .0,
            "event id is not a number"
        );
        assert_eq!(
            parse(r#"{"EventID":4624,"LogHost":"C","Time":"soon"}"#)
                .unwrap_err()
                .0,
            "LANL time is not a number of seconds"
        );
        // A field of the wrong JSON type is absent, the record still read.
        let e = parse(r#"{"EventID":4624,"LogHost":["C"],"UserName":"U1","Time":1}"#).unwrap();
        assert_eq!(e[0].host_name, None);
        assert_eq!(e[0].user_name.as_deref(), Some("U1"));
    }

    #[test]
    fn wls_lines_are_recognised_and_windows_exports_are_not() {
        assert!(looks_like_wls(
            br#"{"UserName":"U","EventID":4624,"LogHost":"C","Time":1}"#
        ));
        assert!(!looks_like_wls(
            br#"{"EventID":4624,"Hostname":"C","TargetUserName":"U"}"#
        ));
        assert!(!looks_like_wls(
            b"1,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Success"
        ));
    }
}
