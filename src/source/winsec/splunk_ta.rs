//! The Splunk Windows TA's names for classic `WinEventLog` fields
//! (`Account_Name`, `Source_Network_Address`, `Logon_Type`, ...), read
//! where a Splunk result has no field of the Windows name.
//!
//! The TA extracts the rendered message's `Name: value` lines, so a name
//! the message gives twice is a multivalue field: `Account_Name` is the
//! subject's and the target's on a logon (4624, 4625, 4648, ...), and
//! only the subject's on a share access, a process, a service, a task or
//! a privileged logon.

use super::{EventData, Text};

/// Sets `slot` to `from` when `slot` is empty.
fn fill_one<'a>(slot: &mut Text<'a>, from: &Text<'a>) {
    if slot.get().is_none() && from.get().is_some() {
        *slot = from.clone();
    }
}

/// Fills the Windows-named fields of event `id` from the TA's names.
pub(super) fn fill(id: u32, d: &mut EventData<'_>) {
    let copy = |d: &mut EventData<'_>| {
        macro_rules! take {
            ($to:ident, $($from:ident),+) => {
                $(
                    let from = d.$from.clone();
                    fill_one(&mut d.$to, &from);
                )+
            };
        }
        take!(LogonType, TaLogonType);
        take!(
            IpAddress,
            TaSourceNetworkAddress,
            TaClientAddress,
            TaSourceAddress,
            TaNetworkAddress
        );
        take!(IpPort, TaSourcePort, TaClientPort);
        take!(WorkstationName, TaWorkstationName);
        take!(Workstation, TaSourceWorkstation);
        take!(AuthenticationPackageName, TaAuthenticationPackage);
        take!(LogonProcessName, TaLogonProcess);
        take!(ShareName, TaShareName);
        take!(RelativeTargetName, TaRelativeTargetName);
        take!(ServiceName, TaServiceName);
        take!(ServiceFileName, TaServiceFileName);
        take!(ServiceAccount, TaServiceAccount);
        take!(NewProcessName, TaNewProcessName);
        take!(CommandLine, TaProcessCommandLine);
        take!(ParentProcessName, TaCreatorProcessName);
        take!(ProcessName, TaProcessName);
        take!(SubStatus, TaSubStatus);
        take!(Error, TaErrorCode);
        take!(FailureCode, TaResultCode, TaFailureCode);
        take!(TicketEncryptionType, TaTicketEncryptionType);
        take!(TargetServerName, TaTargetServerName);
        take!(TaskName, TaTaskName);
    };
    copy(d);
    let account = std::mem::take(&mut d.ta_account);
    let domain = std::mem::take(&mut d.ta_domain);
    match id {
        // The account is the session's (RDP session events).
        4778 | 4779 | 4825 => {
            fill_one(&mut d.AccountName, &account.last);
            fill_one(&mut d.AccountDomain, &domain.last);
        }
        // The account is the subject's.
        4672 | 4688 | 4697 | 4698 | 4702 | 4662 | 5140 | 5145 => {
            fill_one(&mut d.SubjectUserName, &account.first);
            fill_one(&mut d.SubjectDomainName, &domain.first);
        }
        // NTLM validation names the account as Logon_Account.
        4776 => {
            let logon = d.TaLogonAccount.clone();
            fill_one(&mut d.TargetUserName, &logon);
        }
        // Logons and tickets: the target last, the subject first when two.
        _ => {
            fill_one(&mut d.TargetUserName, &account.last);
            fill_one(&mut d.TargetDomainName, &domain.last);
            if account.first.get() != account.last.get() {
                fill_one(&mut d.SubjectUserName, &account.first);
                fill_one(&mut d.SubjectDomainName, &domain.first);
            }
        }
    }
}
