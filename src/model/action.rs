//! What a normalised log event says happened: ECS `event.action`, as one
//! closed vocabulary that every source writes and every later stage matches
//! on, instead of strings compared across the tree.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// ECS `event.action` of a [`crate::model::event::LogEvent`].
        ///
        /// Ordered by its text (so outputs sorted by action keep the order
        /// they had when actions were strings); written as the kebab-case
        /// text in every output.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum Action {
            /// No action was set (a record built field by field before it is known).
            #[default]
            Unset,
            $( $(#[$doc])* $variant, )*
        }

        impl Action {
            /// Every action, `Unset` first.
            pub const ALL: &'static [Action] = &[Action::Unset, $( Action::$variant, )*];

            /// The ECS `event.action` text, e.g. `logged-in` (empty for `Unset`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    Action::Unset => "",
                    $( Action::$variant => $text, )*
                }
            }

            /// The action a text names, if any.
            pub fn from_text(text: &str) -> Option<Action> {
                Some(match text {
                    "" => Action::Unset,
                    $( $text => Action::$variant, )*
                    _ => return None,
                })
            }
        }
    };
}

actions! {
    /// A successful logon (4624, sshd `Accepted`, auditd `USER_LOGIN`, LANL `LogOn` success, Zeek ssh success).
    LoggedIn => "logged-in",
    /// A failed logon (4625, sshd `Failed`, auditd `USER_LOGIN` failed, LANL `LogOn` failure).
    LogonFailed => "logon-failed",
    /// A logon whose outcome the source does not say (Zeek ssh without `auth_success`).
    LogonAttempted => "logon-attempted",
    /// sshd `Invalid user`.
    InvalidUser => "invalid-user",
    /// A logoff (4634, 4647, LANL `LogOff`).
    LoggedOut => "logged-out",
    /// Explicit credentials used (4648, `runas`, pass-the-hash tools).
    ExplicitCredentialLogon => "explicit-credential-logon",
    /// Special privileges assigned to a new logon (4672).
    SpecialPrivilegesAssigned => "special-privileges-assigned",
    /// NTLM credential validation at a domain controller (4776).
    NtlmCredentialValidation => "ntlm-credential-validation",
    /// NTLM authentication seen on the wire (Zeek ntlm.log).
    NtlmAuthentication => "ntlm-authentication",
    /// Kerberos ticket-granting ticket requested (4768, AS).
    KerberosTgtRequest => "kerberos-tgt-request",
    /// Kerberos service ticket requested (4769, TGS).
    KerberosServiceTicket => "kerberos-service-ticket",
    /// Kerberos pre-authentication failed (4771).
    KerberosPreauthFailed => "kerberos-preauth-failed",
    /// A Kerberos request of unknown kind.
    KerberosRequest => "kerberos-request",
    /// A Kerberos ticket renewed (4770).
    KerberosTicketRenewed => "kerberos-ticket-renewed",
    /// An account mapped to another (4774, LANL `AuthMap`).
    AuthMap => "auth-map",
    /// An authentication of a kind the source does not name.
    Authentication => "authentication",
    /// The workstation was locked (4800, LANL `ScreenLock`).
    ScreenLocked => "screen-locked",
    /// The workstation was unlocked (4801, LANL `ScreenUnlock`).
    ScreenUnlocked => "screen-unlocked",
    /// The screen saver started (4802).
    ScreensaverInvoked => "screensaver-invoked",
    /// The screen saver stopped (4803).
    ScreensaverDismissed => "screensaver-dismissed",
    /// The system started (4608).
    SystemStarted => "system-started",
    /// The system stopped (4609, 1100).
    SystemStopped => "system-stopped",
    /// A PAM session opened.
    SessionOpened => "session-opened",
    /// A PAM session closed.
    SessionClosed => "session-closed",
    /// sshd: the connection was closed by the peer.
    ConnectionClosed => "connection-closed",
    /// sshd: the peer disconnected.
    Disconnected => "disconnected",
    /// A sudo command ran (or was refused by policy).
    Sudo => "sudo",
    /// A sudo authentication failed.
    SudoFailed => "sudo-failed",
    /// `su` switched to another account (`(to root) alice on pts/0`).
    Su => "su",
    /// `su` refused the switch (`FAILED SU (to root) alice on pts/0`).
    SuFailed => "su-failed",
    /// A network share was accessed (5140, Zeek smb_mapping).
    ShareAccessed => "share-accessed",
    /// A share object was checked for access (5145).
    ShareObjectChecked => "share-object-checked",
    /// A service was installed (7045, 4697).
    ServiceInstalled => "service-installed",
    /// A process was created (4688, Sysmon 1, LANL `Start`).
    ProcessCreated => "process-created",
    /// A process ended (4689, LANL `End`).
    ProcessEnded => "process-ended",
    /// The arguments of a program run (auditd `EXECVE`); its
    /// `process-created` event (the `SYSCALL` line) shares its audit serial.
    ExecArguments => "exec-arguments",
    /// A network connection (Sysmon 3, 5156).
    NetworkConnection => "network-connection",
    /// An RDP session logged on (TerminalServices 21).
    RdpSessionLogon => "rdp-session-logon",
    /// An RDP session reconnected (4778, TerminalServices 25).
    RdpSessionReconnected => "rdp-session-reconnected",
    /// An RDP session disconnected (4779, TerminalServices 24).
    RdpSessionDisconnected => "rdp-session-disconnected",
    /// An RDP user authenticated (RemoteConnectionManager 1149).
    RdpAuthenticated => "rdp-authenticated",
    /// An RDP connection was denied (4825).
    RdpAccessDenied => "rdp-access-denied",
    /// An RDP connection seen on the wire (Zeek rdp.log).
    RdpConnection => "rdp-connection",
    /// A DNS answer tying a name to an address.
    DnsAnswer => "dns-answer",
    /// A DNS query (LANL dns.txt, Sysmon 22).
    DnsQuery => "dns-query",
    /// A DCE-RPC call (Zeek dce_rpc.log).
    RpcCall => "rpc-call",
    /// An SMB file opened.
    FileOpened => "file-opened",
    /// An SMB file written.
    FileWritten => "file-written",
    /// An SMB file read.
    FileRead => "file-read",
    /// An SMB file deleted.
    FileDeleted => "file-deleted",
    /// An SMB file renamed.
    FileRenamed => "file-renamed",
    /// An SMB file closed.
    FileClosed => "file-closed",
    /// An SMB file's attributes set.
    FileAttributesSet => "file-attributes-set",
    /// Another SMB file action.
    SmbFileAction => "smb-file-action",
    /// A connection summarised by a log source (LANL flows and netflow).
    Flow => "flow",
    /// A red-team compromise record (LANL ground truth).
    RedTeamCompromise => "red-team-compromise",
    /// An RDP session's shell started (TerminalServices-LocalSessionManager 22).
    RdpShellStarted => "rdp-shell-started",
    /// A scheduled task was created (4698).
    ScheduledTaskCreated => "scheduled-task-created",
    /// A scheduled task was updated (4702).
    ScheduledTaskUpdated => "scheduled-task-updated",
    /// Directory replication rights were exercised on a directory object
    /// (4662 with the DS-Replication-Get-Changes GUIDs: DCSync when not a DC).
    DirectoryReplicationRequested => "directory-replication-requested",
    /// A library was loaded into lsass.exe (Sysmon 7).
    ImageLoaded => "image-loaded",
    /// A thread was started in another process (Sysmon 8).
    RemoteThreadCreated => "remote-thread-created",
    /// A process opened lsass.exe (Sysmon 10 with lsass as the target).
    LsassAccessed => "lsass-accessed",
    /// A file was created (Sysmon 11).
    FileCreated => "file-created",
    /// A registry key under a service or Run key was created or deleted (Sysmon 12).
    RegistryKeyChanged => "registry-key-changed",
    /// A registry value under a service or Run key was set (Sysmon 13).
    RegistryValueSet => "registry-value-set",
    /// A named pipe was created (Sysmon 17).
    PipeCreated => "pipe-created",
    /// A named pipe was connected to (Sysmon 18).
    PipeConnected => "pipe-connected",
    /// A WS-Management session was opened to another host (WinRM 6).
    WinrmSessionCreated => "winrm-session-created",
    /// A WS-Management shell was created on this host (WinRM 91).
    WinrmShellCreated => "winrm-shell-created",
    /// A user authenticated to WinRM on this host (WinRM 169).
    WinrmAuthenticated => "winrm-authenticated",
    /// PowerShell remoting used (4103/4104 naming Invoke-Command,
    /// Enter-PSSession or New-PSSession).
    RemotePowershell => "remote-powershell",
    /// A PowerShell script block logged (4104).
    PowershellScriptBlock => "powershell-script-block",
    /// A Sigma rule matched a raw record (`--sigma`; labels `sigma_title`,
    /// `sigma_id`, `sigma_level`, `sigma_tags`, `sigma_matched`).
    SigmaMatch => "sigma-match",
    /// An HTTP request seen on the wire (Zeek http.log).
    HttpRequest => "http-request",
    /// A TLS handshake seen on the wire (Zeek ssl.log).
    TlsHandshake => "tls-handshake",
    /// An LDAP bind seen on the wire (Zeek ldap.log).
    LdapBind => "ldap-bind",
    /// An LDAP search seen on the wire (Zeek ldap_search.log).
    LdapSearch => "ldap-search",
}

impl Action {
    /// True for a logon attempt whatever its outcome (`logged-in`, `logon-failed`).
    pub fn is_logon(self) -> bool {
        matches!(self, Action::LoggedIn | Action::LogonFailed)
    }
}

impl PartialOrd for Action {
    fn partial_cmp(&self, other: &Action) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Action {
    /// By text, as outputs sorted by action were ordered when it was a string.
    fn cmp(&self, other: &Action) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Action::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event action {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_text_and_texts_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for a in Action::ALL {
            assert_eq!(Action::from_text(a.as_str()), Some(*a));
            assert!(seen.insert(a.as_str()), "{} twice", a.as_str());
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), *a);
        }
        assert_eq!(Action::from_text("not-an-action"), None);
    }

    #[test]
    fn order_follows_the_text() {
        assert!(Action::DnsAnswer < Action::LoggedIn);
        assert!(Action::LoggedIn < Action::LogonFailed);
        assert!(Action::Unset < Action::AuthMap);
    }
}
