//! Per-rule tests of the detectors, through the real binary.
//!
//! A table of (rule id, fixture, expected outcome), in the manner of ruff's
//! rule tests. Every fixture is a small network the test writes as files
//! lateral reads: a Zeek conn.log (connections), Windows Security and
//! System events as JSON Lines in the flat OTRF/NXLog shape (one case in
//! the Winlogbeat shape), and an sshd auth.log with ISO timestamps. Fourteen days of the same benign routine
//! are learned (`--learn-until` the judged day), then the judged day holds
//! the routine plus the case's own records. A `Fires` row asserts the rule
//! is among the alerts of `analyze --json -` with the expected source and
//! destination; a `Silent` row is the near miss, where the rule must not
//! fire. Every rule has both, so a disabled detector fails its `Fires` row
//! and an over-eager one its `Silent` row.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use lateral::model::event::Timestamp;

/// Monday 2024-03-04 00:00 UTC, the first learning day.
const T0: i64 = 1_709_510_400;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// Learning days; the judged day follows them (a Monday).
const BASE_DAYS: i64 = 14;

const DC: &str = "10.1.2.5";
const FILES: &str = "10.1.2.10";
const SRV: &str = "10.1.2.20";
const LNX: &str = "10.1.2.40";
const ADMIN: &str = "10.1.2.70";
/// An address outside the routine (the attacker's foothold).
const ROGUE: &str = "10.1.1.99";
const C2: &str = "203.0.113.5";
const WORKSTATIONS: usize = 8;

fn ws(i: usize) -> String {
    format!("10.1.1.{}", 10 + i)
}

/// The records of one fixture, as the lines of its three files.
#[derive(Default)]
struct Net {
    conn: Vec<(i64, String)>,
    win: Vec<(i64, String)>,
    auth: Vec<(i64, String)>,
    uid: u64,
    /// Frames of a capture (`capture.pcap`, written when there are any).
    frames: Vec<(Timestamp, Vec<u8>)>,
}

fn rfc3339(t: i64) -> String {
    Timestamp::from_parts(t, 0).to_rfc3339()
}

impl Net {
    /// A TCP connection (`state` a Zeek conn_state) sending `sent` bytes.
    fn flow(&mut self, t: i64, src: &str, dst: &str, port: u16, sent: u64, state: &str) {
        self.uid += 1;
        let sport = 40_000 + (self.uid % 20_000);
        let resp = if state == "SF" { 1_000 } else { 0 };
        let (pkts, rpkts) = if state == "SF" { (6, 4) } else { (1, 1) };
        self.conn.push((
            t,
            format!(
                "{t}.000000\tCfix{:014}\t{src}\t{sport}\t{dst}\t{port}\ttcp\t-\t1.000000\t{sent}\t{resp}\t{state}\t-\t-\t0\tShADadFf\t{pkts}\t{}\t{rpkts}\t{}\t-",
                self.uid,
                sent + 40 * pkts,
                resp + 40 * rpkts
            ),
        ));
    }

    /// An answered UDP exchange (one request of `sent` bytes, one answer).
    fn udp(&mut self, t: i64, src: &str, dst: &str, port: u16, sent: u64) {
        self.uid += 1;
        let sport = 40_000 + (self.uid % 20_000);
        self.conn.push((
            t,
            format!(
                "{t}.000000\tCfix{:014}\t{src}\t{sport}\t{dst}\t{port}\tudp\tdns\t0.010000\t{sent}\t120\tSF\t-\t-\t0\tDd\t1\t{}\t1\t148\t-",
                self.uid,
                sent + 28
            ),
        ));
    }

    /// An answered TCP connection.
    fn ok(&mut self, t: i64, src: &str, dst: &str, port: u16, sent: u64) {
        self.flow(t, src, dst, port, sent, "SF");
    }

    /// A Windows event in the flat shape: `host`'s event `id` with `fields`.
    fn win(&mut self, t: i64, id: u32, host: &str, fields: &[(&str, &str)]) {
        let channel = if id == 7045 { "System" } else { "Security" };
        let mut doc = serde_json::json!({
            "EventID": id,
            "Channel": channel,
            "Hostname": host,
            "@timestamp": rfc3339(t),
        });
        for (k, v) in fields {
            doc[*k] = serde_json::Value::from(*v);
        }
        self.win.push((t, doc.to_string()));
    }

    /// A network logon (4624 or, failed, 4625, type 3) of `user` on `host`
    /// from `from`, with Kerberos or NTLM.
    fn logon(&mut self, t: i64, host: &str, user: &str, from: &str, kerberos: bool, ok: bool) {
        let package = if kerberos { "Kerberos" } else { "NTLM" };
        let mut fields = vec![
            ("LogonType", "3"),
            ("TargetUserName", user),
            ("TargetDomainName", "CORP"),
            ("IpAddress", from),
            ("IpPort", "50000"),
            ("AuthenticationPackageName", package),
        ];
        if !ok {
            fields.push(("Status", "0xc000006d"));
            fields.push(("SubStatus", "0xc000006a"));
        }
        self.win(t, if ok { 4624 } else { 4625 }, host, &fields);
    }

    /// Special privileges (4672) for `user` on `host`.
    fn privileged(&mut self, t: i64, host: &str, user: &str) {
        self.win(
            t,
            4672,
            host,
            &[("SubjectUserName", user), ("SubjectDomainName", "CORP")],
        );
    }

    /// sshd's accepted logon of `user` on `host` from `from`.
    fn ssh(&mut self, t: i64, host: &str, user: &str, from: &str, method: &str) {
        self.auth.push((
            t,
            format!(
                "{}+00:00 {host} sshd[{}]: Accepted {method} for {user} from {from} port 50022 ssh2",
                rfc3339(t).trim_end_matches('Z'),
                1000 + self.auth.len()
            ),
        ));
    }

    /// sshd's failed password for `user` on `host` from `from`.
    fn ssh_failed(&mut self, t: i64, host: &str, user: &str, from: &str) {
        self.auth.push((
            t,
            format!(
                "{}+00:00 {host} sshd[{}]: Failed password for {user} from {from} port 50022 ssh2",
                rfc3339(t).trim_end_matches('Z'),
                1000 + self.auth.len()
            ),
        ));
    }

    /// A network logon of `user` on `host` from `from` with Kerberos, in
    /// the Winlogbeat shape (`winlog.event_data`) instead of the flat one.
    fn winlogbeat_logon(&mut self, t: i64, host: &str, user: &str, from: &str) {
        let doc = serde_json::json!({
            "@timestamp": rfc3339(t),
            "host": {"name": host},
            "winlog": {
                "event_id": "4624",
                "channel": "Security",
                "computer_name": host,
                "event_data": {
                    "LogonType": "3",
                    "TargetUserName": user,
                    "TargetDomainName": "CORP",
                    "IpAddress": format!("::ffff:{from}"),
                    "IpPort": "50000",
                    "AuthenticationPackageName": "Kerberos",
                },
            },
        });
        self.win.push((t, doc.to_string()));
    }

    /// The connection and the logon of one SSH session.
    fn ssh_session(&mut self, t: i64, from: &str, user: &str) {
        self.ok(t, from, LNX, 22, 30_000);
        self.ssh(t, "lnx01", user, from, "password");
    }

    /// Writes the three files into `dir`, each in time order.
    fn write(mut self, dir: &Path) {
        for v in [&mut self.conn, &mut self.win, &mut self.auth] {
            v.sort_by_key(|(t, _)| *t);
        }
        let mut conn = String::from(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
             #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
             #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
        );
        let lines = |v: &[(i64, String)]| -> String {
            v.iter().fold(String::new(), |mut s, (_, l)| {
                let _ = writeln!(s, "{l}");
                s
            })
        };
        conn.push_str(&lines(&self.conn));
        std::fs::write(dir.join("conn.log"), conn).unwrap();
        std::fs::write(dir.join("security.jsonl"), lines(&self.win)).unwrap();
        std::fs::write(dir.join("auth.log"), lines(&self.auth)).unwrap();
        if !self.frames.is_empty() {
            use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
            self.frames.sort_by_key(|(t, _)| *t);
            let mut w = CaptureWriter::new(
                Vec::new(),
                CaptureKind::Pcap {
                    nanos: false,
                    big_endian: false,
                },
                1,
                65_535,
            )
            .unwrap();
            for (t, f) in &self.frames {
                w.write_packet(*t, f, f.len() as u32).unwrap();
            }
            std::fs::write(dir.join("capture.pcap"), w.finish().unwrap()).unwrap();
        }
    }
}

/// The benign routine of day `d` (0-based from T0; weekdays are d % 7 < 5).
fn routine(net: &mut Net, d: i64) {
    let day = T0 + d * DAY;
    if d.rem_euclid(7) >= 5 {
        return;
    }
    for i in 0..WORKSTATIONS {
        let w = ws(i);
        let t = day + 8 * HOUR + i as i64 * 97;
        net.ok(t, &w, DC, 88, 1_400);
        net.ok(t + 60, &w, FILES, 445, 40_000 + i as u64 * 100);
        net.ok(t + 120, &w, SRV, 80, 5_000);
        // Users log on to the file server from their own desks, with Kerberos.
        net.logon(t + 60, "FILES", &format!("user{i}"), &w, true, true);
    }
    // The admin's usual RDP to the servers, and the admin account's
    // privileges there.
    for (k, (name, addr)) in [("FILES", FILES), ("SRV", SRV)].into_iter().enumerate() {
        let t = day + 10 * HOUR + k as i64 * 600;
        net.ok(t, ADMIN, addr, 3389, 80_000);
        net.logon(t, name, "admin", ADMIN, true, true);
        net.privileged(t + 1, name, "admin");
    }
    // A scheduled task on ws1 uses svc-sql's password for the database server.
    net.win(
        day + 9 * HOUR,
        4648,
        "WS1",
        &[
            ("SubjectUserName", "user1"),
            ("TargetUserName", "svc-sql"),
            ("TargetServerName", "srv-db"),
        ],
    );
    // carol's SSH from ws4 to the Linux server, late morning.
    for k in 0..3 {
        net.ssh_session(day + 11 * HOUR + k * 900, &ws(4), "carol");
    }
}

/// The judged day's time `h` hours after midnight.
fn at(h: i64) -> i64 {
    T0 + BASE_DAYS * DAY + h * HOUR
}

/// A case: the records it adds to the judged day.
type Case = fn(&mut Net);

/// What a row expects of its rule.
enum Expect {
    /// The rule fires at least once from this source to this destination
    /// (each matched against the side's `ip` or `domain`, case-insensitively;
    /// `None`: the alert has no such side).
    Fires(Option<&'static str>, Option<&'static str>),
    /// The rule fires from this source to this destination, and every such
    /// alert is low (risk score under 25): reported, but as routine's kin.
    FiresLow(Option<&'static str>, Option<&'static str>),
    /// The rule does not fire.
    Silent,
}
use Expect::{Fires, FiresLow, Silent};

/// The table: every rule, a case where it fires, a near miss where it does not.
const RULES: &[(&str, &str, Case, Expect)] = &[
    // A workstation's first RDP to another workstation.
    (
        "lateral.new-admin-edge",
        "new-rdp-between-desks",
        |n| n.ok(at(13), &ws(1), &ws(2), 3389, 50_000),
        Fires(Some("10.1.1.11"), Some("10.1.1.12")),
    ),
    (
        "lateral.new-admin-edge",
        "usual-smb-to-file-server",
        |n| n.ok(at(13), &ws(1), FILES, 445, 40_000),
        Silent,
    ),
    // Three desks reach SRV over SMB within the hour.
    (
        "lateral.convergence",
        "three-desks-onto-srv",
        |n| converge(n, 3),
        Fires(Some("10.1.1.11"), Some(SRV)),
    ),
    (
        "lateral.convergence",
        "two-desks-onto-srv",
        |n| converge(n, 2),
        Silent,
    ),
    // A desk sweeps SMB on twelve hosts in a few minutes.
    (
        "lateral.fan-out",
        "smb-sweep-of-12",
        |n| sweep(n, 12),
        Fires(Some("10.1.1.11"), None),
    ),
    ("lateral.fan-out", "smb-sweep-of-8", |n| sweep(n, 8), Silent),
    // user2 logs on to the file server from ws3 instead of ws2.
    (
        "lateral.new-logon-source",
        "user2-from-ws3",
        |n| n.logon(at(14), "FILES", "user2", &ws(3), true, true),
        Fires(Some("10.1.1.13"), Some("files")),
    ),
    (
        "lateral.new-logon-source",
        "user2-from-own-desk",
        |n| n.logon(at(14), "FILES", "user2", &ws(2), true, true),
        Silent,
    ),
    // The same in the Winlogbeat shape.
    (
        "lateral.new-logon-source",
        "winlogbeat-user2-from-ws3",
        |n| n.winlogbeat_logon(at(14), "FILES", "user2", &ws(3)),
        Fires(Some("10.1.1.13"), Some("files")),
    ),
    (
        "lateral.new-logon-source",
        "winlogbeat-user2-from-own-desk",
        |n| n.winlogbeat_logon(at(14), "FILES", "user2", &ws(2)),
        Silent,
    ),
    // user3 logs on to six hosts in ten minutes.
    (
        "lateral.account-spread",
        "user3-on-6-hosts",
        |n| spread(n, 6),
        Fires(Some("10.1.1.13"), None),
    ),
    (
        "lateral.account-spread",
        "user3-on-4-hosts",
        |n| spread(n, 4),
        Silent,
    ),
    // user1 passes another account's password for a new server.
    (
        "lateral.explicit-credentials",
        "new-runas-target",
        |n| explicit(n, "svc-backup", "srv-vault"),
        Fires(Some("ws1"), Some("srv-vault")),
    ),
    (
        "lateral.explicit-credentials",
        "usual-scheduled-task",
        |n| explicit(n, "svc-sql", "srv-db"),
        Silent,
    ),
    // user5 logs on to the Kerberos-only file server with NTLM.
    (
        "lateral.ntlm-where-kerberos",
        "ntlm-on-files",
        |n| n.logon(at(14), "FILES", "user5", &ws(5), false, true),
        Fires(Some("10.1.1.15"), Some("files")),
    ),
    (
        "lateral.ntlm-where-kerberos",
        "kerberos-on-files",
        |n| n.logon(at(14), "FILES", "user5", &ws(5), true, true),
        Silent,
    ),
    // Six failures for user6 from one address, then a success.
    (
        "lateral.brute-force",
        "six-failures-then-success",
        |n| guess(n, 6),
        Fires(Some(ROGUE), Some("files")),
    ),
    (
        "lateral.brute-force",
        "four-failures-then-success",
        |n| guess(n, 4),
        Silent,
    ),
    // A tool's pace with no success: twelve failures three seconds apart.
    (
        "lateral.brute-force",
        "twelve-fast-failures-no-success",
        |n| failures_only(n, 12, 3),
        Fires(Some(ROGUE), Some("files")),
    ),
    // A script retrying an expired password every two minutes.
    (
        "lateral.brute-force",
        "twelve-slow-failures-no-success",
        |n| failures_only(n, 12, 120),
        Silent,
    ),
    // The same guessing over SSH, as sshd logs it.
    (
        "lateral.brute-force",
        "sshd-six-failures-then-success",
        |n| ssh_guess(n, 6),
        Fires(Some(ROGUE), Some("lnx01")),
    ),
    (
        "lateral.brute-force",
        "sshd-four-failures-then-success",
        |n| ssh_guess(n, 4),
        Silent,
    ),
    // One address fails for six accounts.
    (
        "lateral.password-spray",
        "six-accounts",
        |n| spray(n, 6),
        Fires(Some(ROGUE), Some("files")),
    ),
    (
        "lateral.password-spray",
        "four-accounts",
        |n| spray(n, 4),
        Silent,
    ),
    // A spray at the domain controller: refused Kerberos pre-authentications only.
    (
        "lateral.password-spray",
        "kerberos-six-accounts",
        |n| kerberos_spray(n, 6),
        Fires(Some(ROGUE), Some("dc01")),
    ),
    (
        "lateral.password-spray",
        "kerberos-four-accounts",
        |n| kerberos_spray(n, 4),
        Silent,
    ),
    // user4 is privileged on the file server for the first time.
    (
        "lateral.first-privileged-logon",
        "user4-privileged",
        |n| privilege(n, "user4", &ws(4)),
        Fires(Some("10.1.1.14"), Some("files")),
    ),
    (
        "lateral.first-privileged-logon",
        "admin-privileged-as-usual",
        |n| privilege(n, "admin", ADMIN),
        Silent,
    ),
    // A logon from a new source, then a service installed within minutes.
    (
        "lateral.remote-exec",
        "psexec-pattern",
        |n| psexec(n, 120),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    (
        "lateral.remote-exec",
        "service-an-hour-later",
        |n| psexec(n, 3_600),
        Silent,
    ),
    // The logon, then the admin share written from the same desk.
    (
        "lateral.remote-exec",
        "admin-share-after-logon",
        |n| share_after_logon(n, "\\\\*\\ADMIN$"),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    (
        "lateral.remote-exec",
        "ipc-share-after-logon",
        |n| share_after_logon(n, "\\\\*\\IPC$"),
        Silent,
    ),
    // NTLM validations refused at the domain controller for one account,
    // a tool's pace (4776 alone: the member server's log is not given).
    (
        "lateral.brute-force",
        "4776-twelve-fast-failures",
        |n| ntlm_failures(n, 1, 12),
        Fires(Some("roguepc"), Some("dc01")),
    ),
    (
        "lateral.brute-force",
        "4776-nine-fast-failures",
        |n| ntlm_failures(n, 1, 9),
        Silent,
    ),
    // One workstation's NTLM validations refused for six accounts.
    (
        "lateral.password-spray",
        "4776-six-accounts",
        |n| ntlm_failures(n, 6, 6),
        Fires(Some("roguepc"), Some("dc01")),
    ),
    (
        "lateral.password-spray",
        "4776-four-accounts",
        |n| ntlm_failures(n, 4, 4),
        Silent,
    ),
    // ws1 passes six accounts' credentials to one server within a minute.
    (
        "lateral.password-spray",
        "4648-six-accounts",
        |n| explicit_spray(n, 6),
        Fires(Some("ws1"), Some("srv-vault")),
    ),
    (
        "lateral.password-spray",
        "4648-four-accounts",
        |n| explicit_spray(n, 4),
        Silent,
    ),
    // WmiPrvSE starts cmd.exe on SRV a minute after user6 logs on from ws6.
    (
        "lateral.remote-process",
        "wmi-shell-after-logon",
        |n| wmi_shell(n, true),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    // Sysmon 1: wsmprovhost.exe starts powershell.exe on SRV after user6's
    // logon from ws6 (PowerShell remoting).
    (
        "lateral.remote-process",
        "winrm-sysmon1-after-logon",
        |n| winrm_shell_sysmon(n, "C:\\Windows\\System32\\wsmprovhost.exe"),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    // The same child of explorer.exe: a user at the console.
    (
        "lateral.remote-process",
        "explorer-sysmon1-after-logon",
        |n| winrm_shell_sysmon(n, "C:\\Windows\\explorer.exe"),
        Silent,
    ),
    // The same process with no network logon before it: local WMI use.
    (
        "lateral.remote-process",
        "wmi-shell-without-logon",
        |n| wmi_shell(n, false),
        Silent,
    ),
    // tscon run as SYSTEM attaches a session a ROGUE client reconnects to.
    (
        "lateral.rdp-hijack",
        "tscon-as-system",
        |n| rdp_reconnect(n, "FILES$", "user2", "user3"),
        Fires(Some(ROGUE), Some("files")),
    ),
    // user2 reconnects to their own session, having run tscon themselves.
    (
        "lateral.rdp-hijack",
        "own-session-reconnect",
        |n| rdp_reconnect(n, "user2", "user2", "user2"),
        Silent,
    ),
    // A Kerberos logon from the foothold as "ghost" carrying user3's SID,
    // which user3's own logon from ws3 showed that morning: a forged ticket.
    (
        "lateral.forged-ticket",
        "sid-under-two-names",
        |n| forged_ticket(n, true),
        Fires(Some(ROGUE), Some("files")),
    ),
    // The built-in administrator renamed `itadmin` (RID 500), logging on
    // from the admin host every learning weekday and on the judged day:
    // its name is known, and its SID never carries another.
    (
        "lateral.forged-ticket",
        "renamed-administrator",
        |n| forged_ticket(n, false),
        Silent,
    ),
    // A valid password refused over RDP (4825).
    (
        "lateral.rdp-denied",
        "4825-from-rogue",
        |n| rdp_denied(n, true),
        Fires(Some(ROGUE), Some("files")),
    ),
    // The same account let in (4624 type 10): nothing denied.
    (
        "lateral.rdp-denied",
        "rdp-logon-allowed",
        |n| rdp_denied(n, false),
        Silent,
    ),
    // ws6 opens SRV's svcctl pipe; a service is installed a minute later,
    // with no logon event in the logs.
    (
        "lateral.remote-service",
        "svcctl-pipe-then-service",
        |n| pipe_then(n, "svcctl", Some(7045)),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    // The same through the task scheduler: atsvc, then a task (4698).
    (
        "lateral.remote-service",
        "atsvc-pipe-then-task",
        |n| pipe_then(n, "atsvc", Some(4698)),
        Fires(Some("10.1.1.16"), Some("srv")),
    ),
    // An admin installs a service on SRV locally: no pipe opened from elsewhere.
    (
        "lateral.remote-service",
        "local-service-install",
        |n| pipe_then(n, "", Some(7045)),
        Silent,
    ),
    // The pipe opened, but nothing created.
    (
        "lateral.remote-service",
        "svcctl-pipe-alone",
        |n| pipe_then(n, "svcctl", None),
        Silent,
    ),
    // user6 logs on to the domain controller from ws6 and asks it to
    // replicate secrets (DCSync).
    (
        "lateral.dcsync",
        "user-replicates",
        |n| replicate(n, "user6"),
        Fires(Some("10.1.1.16"), Some("dc01")),
    ),
    // Another controller replicating, as controllers do.
    (
        "lateral.dcsync",
        "dc-replicates",
        |n| replicate(n, "DC02$"),
        Silent,
    ),
    // user6 asks for RC4 tickets to four services within a minute.
    (
        "lateral.kerberoast",
        "rc4-for-4-services",
        |n| service_tickets(n, 4, "0x17"),
        Fires(Some("10.1.1.16"), Some("dc01")),
    ),
    // The same with AES tickets, as a current client asks.
    (
        "lateral.kerberoast",
        "aes-for-4-services",
        |n| service_tickets(n, 4, "0x12"),
        Silent,
    ),
    // RC4 tickets for two services only.
    (
        "lateral.kerberoast",
        "rc4-for-2-services",
        |n| service_tickets(n, 2, "0x17"),
        Silent,
    ),
    // ws6 binds to the controller's LDAP in clear and asks for the
    // protected accounts and the service accounts (BloodHound's questions).
    (
        "lateral.ldap-recon",
        "admins-and-spns-from-a-desk",
        |n| {
            ldap_searches(
                n,
                &ws(6),
                &[
                    "(&(objectCategory=person)(adminCount=1))",
                    "(servicePrincipalName=*)",
                ],
            )
        },
        Fires(Some("10.1.1.16"), Some(DC)),
    ),
    // Its question about the domain's trusts alone: reported, low.
    (
        "lateral.ldap-recon",
        "trusts-from-a-desk",
        |n| ldap_searches(n, &ws(6), &["(objectClass=trustedDomain)"]),
        FiresLow(Some("10.1.1.16"), Some(DC)),
    ),
    // The same desk listing the domain's computers, as management tools do.
    (
        "lateral.ldap-recon",
        "computers-from-a-desk",
        |n| ldap_searches(n, &ws(6), &["(objectCategory=computer)"]),
        Silent,
    ),
    // ws1's Sysmon logs an SMB session it opened to ws2 (no capture of it).
    (
        "lateral.logged-admin-edge",
        "sysmon3-smb-between-desks",
        |n| logged_connection(n, false),
        Fires(Some("10.1.1.11"), Some("10.1.1.12")),
    ),
    // ws1's firewall log (5156, outbound) of an RDP connection to ws3.
    (
        "lateral.logged-admin-edge",
        "wfp5156-rdp-between-desks",
        |n| wfp_connection(n, "%%14593"),
        Fires(Some("10.1.1.11"), Some("10.1.1.13")),
    ),
    // The same record inbound: ws1 did not open it.
    (
        "lateral.logged-admin-edge",
        "wfp5156-inbound",
        |n| wfp_connection(n, "%%14592"),
        Silent,
    ),
    // The same connection also in the conn.log: the flow's rule judges it.
    (
        "lateral.logged-admin-edge",
        "sysmon3-with-its-flow",
        |n| logged_connection(n, true),
        Silent,
    ),
    // A desk connects outside every five minutes with the same size.
    (
        "lateral.beaconing",
        "every-300s",
        |n| beacon(n, &[300; 20]),
        Fires(Some("10.1.1.17"), Some(C2)),
    ),
    // The domain controller resolves names for the desks and forwards to an
    // outside resolver every five minutes: a relay, not an implant.
    (
        "lateral.beaconing",
        "dns-forwarder-usual-upstream",
        |n| dns_forwarder(n, true),
        Silent,
    ),
    (
        "lateral.beaconing",
        "dns-forwarder-new-upstream",
        |n| dns_forwarder(n, false),
        FiresLow(Some(DC), Some(RESOLVER)),
    ),
    (
        "lateral.beaconing",
        "irregular",
        |n| beacon(n, &[30, 900, 75, 2_400, 400, 3_000, 120, 1_800]),
        Silent,
    ),
    // A desk sends the file server 50 MB in an hour (its usual: 40 KB a day).
    (
        "lateral.volume",
        "50mb-to-files",
        |n| n.ok(at(15), &ws(2), FILES, 445, 50_000_000),
        Fires(Some("10.1.1.12"), Some(FILES)),
    ),
    (
        "lateral.volume",
        "200kb-to-files",
        |n| n.ok(at(15), &ws(2), FILES, 445, 200_000),
        Silent,
    ),
    // carol's usual SSH, at 03:00 instead of late morning.
    (
        "lateral.off-hours-session",
        "carol-at-3am",
        |n| n.ssh_session(at(3), &ws(4), "carol"),
        Fires(Some("10.1.1.14"), Some("lnx01")),
    ),
    (
        "lateral.off-hours-session",
        "carol-at-noon",
        |n| n.ssh_session(at(12), &ws(4), "carol"),
        Silent,
    ),
];

fn converge(n: &mut Net, desks: usize) {
    for k in 0..desks {
        n.ok(at(13) + k as i64 * 600, &ws(k + 1), SRV, 445, 120_000);
    }
}

fn sweep(n: &mut Net, hosts: usize) {
    for k in 0..hosts {
        n.ok(
            at(13) + k as i64 * 10,
            &ws(1),
            &format!("10.1.3.{}", 10 + k),
            445,
            2_000,
        );
    }
}

fn spread(n: &mut Net, hosts: usize) {
    for k in 0..hosts {
        n.logon(
            at(14) + k as i64 * 100,
            &format!("HOST{k}"),
            "user3",
            &ws(3),
            true,
            true,
        );
    }
}

fn explicit(n: &mut Net, target: &str, server: &str) {
    n.win(
        at(14),
        4648,
        "WS1",
        &[
            ("SubjectUserName", "user1"),
            ("TargetUserName", target),
            ("TargetServerName", server),
        ],
    );
}

fn guess(n: &mut Net, failures: i64) {
    for k in 0..failures {
        n.logon(at(14) + k * 10, "FILES", "user6", ROGUE, false, false);
    }
    n.logon(at(14) + 120, "FILES", "user6", ROGUE, false, true);
}

fn failures_only(n: &mut Net, failures: i64, gap: i64) {
    for k in 0..failures {
        n.logon(at(14) + k * gap, "FILES", "user6", ROGUE, false, false);
    }
}

fn spray(n: &mut Net, accounts: usize) {
    for k in 0..accounts {
        n.logon(
            at(14) + k as i64 * 20,
            "FILES",
            &format!("user{k}"),
            ROGUE,
            false,
            false,
        );
    }
}

fn ssh_guess(n: &mut Net, failures: i64) {
    for k in 0..failures {
        n.ssh_failed(at(14) + k * 10, "lnx01", "carol", ROGUE);
    }
    n.ssh(at(14) + 120, "lnx01", "carol", ROGUE, "password");
}

fn kerberos_spray(n: &mut Net, accounts: usize) {
    for k in 0..accounts {
        let user = format!("user{k}");
        n.win(
            at(14) + k as i64 * 5,
            4771,
            "DC01",
            &[
                ("TargetUserName", &user),
                ("IpAddress", &format!("::ffff:{ROGUE}")),
                ("IpPort", "50100"),
                ("Status", "0x18"),
            ],
        );
    }
}

/// `accounts` accounts' NTLM validations (4776) refused at DC01 for
/// workstation ROGUEPC, `per` in all, two seconds apart.
fn ntlm_failures(n: &mut Net, accounts: usize, per: usize) {
    for k in 0..per {
        let user = format!("user{}", k % accounts.max(1));
        n.win(
            at(14) + k as i64 * 2,
            4776,
            "DC01",
            &[
                ("TargetUserName", &user),
                ("Workstation", "ROGUEPC"),
                ("Status", "0xc000006a"),
            ],
        );
    }
}

/// ws1 uses `accounts` accounts' credentials (4648) for srv-vault, ten
/// seconds apart.
fn explicit_spray(n: &mut Net, accounts: usize) {
    for k in 0..accounts {
        n.win(
            at(14) + k as i64 * 10,
            4648,
            "WS1",
            &[
                ("SubjectUserName", "user1"),
                ("TargetUserName", &format!("user{k}")),
                ("TargetServerName", "srv-vault"),
            ],
        );
    }
}

/// WmiPrvSE.exe starts cmd.exe on SRV; with `logon`, a minute after user6
/// logged on from ws6.
fn wmi_shell(n: &mut Net, logon: bool) {
    if logon {
        n.logon(at(14), "SRV", "user6", &ws(6), true, true);
    }
    n.win(
        at(14) + 60,
        4688,
        "SRV",
        &[
            ("SubjectUserName", "SRV$"),
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            (
                "CommandLine",
                "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1 2>&1",
            ),
            (
                "ParentProcessName",
                "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
            ),
        ],
    );
}

/// On FILES: `left` disconnects session RDP-Tcp#7, `tscon_by` runs
/// tscon onto it, and `back` reconnects to it from ROGUE.
fn rdp_reconnect(n: &mut Net, tscon_by: &str, left: &str, back: &str) {
    fn session(user: &str) -> [(&'static str, &str); 5] {
        [
            ("AccountName", user),
            ("AccountDomain", "CORP"),
            ("SessionName", "RDP-Tcp#7"),
            ("ClientName", "ROGUEPC"),
            ("ClientAddress", ROGUE),
        ]
    }
    n.win(at(14), 4779, "FILES", &session(left));
    n.win(
        at(14) + 1,
        4688,
        "FILES",
        &[
            ("SubjectUserName", tscon_by),
            ("NewProcessName", "C:\\Windows\\System32\\tscon.exe"),
            ("CommandLine", "tscon 2 /dest:rdp-tcp#7"),
            ("ParentProcessName", "C:\\Windows\\System32\\cmd.exe"),
        ],
    );
    n.win(at(14) + 2, 4778, "FILES", &session(back));
}

/// user5 tries RDP onto FILES from ROGUE: refused (4825) or let in (4624
/// type 10).
fn rdp_denied(n: &mut Net, denied: bool) {
    if denied {
        n.win(
            at(14),
            4825,
            "FILES",
            &[
                ("AccountName", "user5"),
                ("AccountDomain", "CORP"),
                ("ClientAddress", ROGUE),
                ("LogonID", "0x3457272"),
            ],
        );
    } else {
        n.win(
            at(14),
            4624,
            "FILES",
            &[
                ("LogonType", "10"),
                ("TargetUserName", "user5"),
                ("TargetDomainName", "CORP"),
                ("IpAddress", ROGUE),
                ("IpPort", "50000"),
                ("AuthenticationPackageName", "Negotiate"),
            ],
        );
    }
}

/// The domain SID of the fixtures' accounts.
const DOMAIN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330";

/// A Kerberos network logon (4624 type 3) of `user` with SID `sid` on `host`.
fn logon_with_sid(n: &mut Net, t: i64, host: &str, user: &str, sid: &str, from: &str) {
    n.win(
        t,
        4624,
        host,
        &[
            ("LogonType", "3"),
            ("TargetUserName", user),
            ("TargetUserSid", sid),
            ("TargetDomainName", "CORP"),
            ("IpAddress", from),
            ("IpPort", "50000"),
            ("AuthenticationPackageName", "Kerberos"),
            ("LogonProcessName", "Kerberos"),
        ],
    );
}

/// `forged`: user3's logon from ws3 on FILES with its SID, then "ghost"
/// from the foothold with the same SID. Otherwise: the renamed built-in
/// administrator `itadmin` (RID 500) logs on to FILES from the admin host
/// every learning weekday and on the judged day.
fn forged_ticket(n: &mut Net, forged: bool) {
    if forged {
        let sid = format!("{DOMAIN_SID}-1107");
        logon_with_sid(n, at(9), "FILES", "user3", &sid, &ws(3));
        logon_with_sid(n, at(15), "FILES", "ghost", &sid, ROGUE);
    } else {
        let sid = format!("{DOMAIN_SID}-500");
        for d in (0..=BASE_DAYS).filter(|d| d % 7 < 5) {
            let t = T0 + d * DAY + 10 * HOUR + 300;
            logon_with_sid(n, t, "FILES", "itadmin", &sid, ADMIN);
        }
    }
}

/// On SRV: ws6 opens the IPC$ pipe `pipe` (none when empty), then a
/// minute later event `then` (7045 a service, 4698 a task) is written.
fn pipe_then(n: &mut Net, pipe: &str, then: Option<u32>) {
    if !pipe.is_empty() {
        n.win(
            at(14),
            5145,
            "SRV",
            &[
                ("SubjectUserName", "user6"),
                ("IpAddress", &ws(6)),
                ("IpPort", "50001"),
                ("ShareName", "\\\\*\\IPC$"),
                ("RelativeTargetName", pipe),
            ],
        );
    }
    match then {
        Some(7045) => n.win(
            at(14) + 60,
            7045,
            "SRV",
            &[
                ("ServiceName", "updsvc"),
                ("ImagePath", "%COMSPEC% /C C:\\Windows\\Temp\\u.exe"),
            ],
        ),
        Some(id) => n.win(
            at(14) + 60,
            id,
            "SRV",
            &[("SubjectUserName", "user6"), ("TaskName", "\\Updater")],
        ),
        None => {}
    }
}

/// `who` asks DC01 to replicate directory changes (4662 with
/// DS-Replication-Get-Changes-All); a person's account logged on from ws6
/// first.
fn replicate(n: &mut Net, who: &str) {
    if !who.ends_with('$') {
        n.logon(at(14), "DC01", who, &ws(6), true, true);
    }
    n.win(
        at(14) + 2,
        4662,
        "DC01",
        &[
            ("SubjectUserName", who),
            ("SubjectDomainName", "CORP"),
            ("ObjectName", "%{0b32719a-29a5-4ad5-b9dc-56200eba0ce0}"),
            ("AccessMask", "0x100"),
            (
                "Properties",
                "%%7688 {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2} {19195a5b-6da0-11d0-afd3-00c04fd930c9}",
            ),
        ],
    );
}

/// A BER element: tag, definite length, body.
fn ber(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(body);
    v
}

/// An LDAP filter (RFC 4511) from the few text forms the cases use:
/// `(a=v)`, `(a=*)` and `(&...)` of those.
fn ldap_filter(text: &str) -> Vec<u8> {
    if let Some(inner) = text.strip_prefix("(&").and_then(|t| t.strip_suffix(')')) {
        let parts: Vec<u8> = inner.split_inclusive(')').flat_map(ldap_filter).collect();
        return ber(0xa0, &parts);
    }
    let inner = text.trim_start_matches('(').trim_end_matches(')');
    let (attr, value) = inner.split_once('=').unwrap();
    if value == "*" {
        return ber(0x87, attr.as_bytes());
    }
    ber(
        0xa3,
        &[ber(0x04, attr.as_bytes()), ber(0x04, value.as_bytes())].concat(),
    )
}

/// `from` binds to DC01's LDAP (389) in clear as user6 and runs one
/// subtree search per filter, each answered by a done; 14:00 of the
/// judged day.
fn ldap_searches(n: &mut Net, from: &str, filters: &[&str]) {
    use lateral::synth::tcp_session::TcpSession;
    let message = |id: u8, op: Vec<u8>| ber(0x30, &[ber(0x02, &[id]), op].concat());
    let done = |tag: u8| {
        ber(
            tag,
            &[ber(0x0a, &[0]), ber(0x04, b""), ber(0x04, b"")].concat(),
        )
    };
    let client = format!("{from}:50389").parse().unwrap();
    let server = format!("{DC}:389").parse().unwrap();
    let mut frames = Vec::new();
    let mut sink = |ts: Timestamp, f: &[u8]| frames.push((ts, f.to_vec()));
    let mut s = TcpSession::new(client, server, 7_000, 90_000);
    let t = s.handshake(Timestamp::from_parts(at(14), 0), &mut sink);
    let bind = ber(
        0x60,
        &[
            ber(0x02, &[3]),
            ber(0x04, b"CN=user6,CN=Users,DC=corp,DC=example"),
            ber(0x80, b"Secret1"),
        ]
        .concat(),
    );
    let t = s.send_bytes(t, true, &message(1, bind), &mut sink);
    let mut t = s.send_bytes(t, false, &message(1, done(0x61)), &mut sink);
    for (i, f) in filters.iter().enumerate() {
        let id = 2 + i as u8;
        let search = ber(
            0x63,
            &[
                ber(0x04, b"DC=corp,DC=example"),
                ber(0x0a, &[2]),
                ber(0x0a, &[0]),
                ber(0x02, &[0]),
                ber(0x02, &[0]),
                ber(0x01, &[0]),
                ldap_filter(f),
                ber(0x30, &ber(0x04, b"sAMAccountName")),
            ]
            .concat(),
        );
        t = s.send_bytes(t, true, &message(id, search), &mut sink);
        t = s.send_bytes(t, false, &message(id, done(0x65)), &mut sink);
    }
    s.close(t, true, &mut sink);
    n.frames.extend(frames);
}

/// user6 on ws6 gets service tickets (4769) from DC01 for `services`
/// services, encrypted with `etype`, ten seconds apart.
fn service_tickets(n: &mut Net, services: usize, etype: &str) {
    for k in 0..services {
        n.win(
            at(14) + k as i64 * 10,
            4769,
            "DC01",
            &[
                ("TargetUserName", "user6@CORP.EXAMPLE"),
                ("ServiceName", &format!("svc-app{k}")),
                ("IpAddress", &format!("::ffff:{}", ws(6))),
                ("IpPort", "50200"),
                ("Status", "0x0"),
                ("TicketEncryptionType", etype),
            ],
        );
    }
}

/// ws1's Sysmon records (event 3, initiated) an SMB connection to ws2;
/// with `captured`, the conn.log holds the same connection.
fn logged_connection(n: &mut Net, captured: bool) {
    let sport = if captured {
        n.ok(at(13), &ws(1), &ws(2), 445, 50_000);
        40_000 + (n.uid % 20_000)
    } else {
        51_234
    };
    let doc = serde_json::json!({
        "EventID": 3,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Hostname": "WS1",
        "@timestamp": rfc3339(at(13)),
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "Protocol": "tcp",
        "Initiated": "true",
        "SourceIp": ws(1),
        "SourcePort": sport.to_string(),
        "DestinationIp": ws(2),
        "DestinationPort": "445",
    });
    n.win.push((at(13), doc.to_string()));
}

/// ws1's Windows Filtering Platform permits a TCP connection between ws1
/// and ws3's RDP port (5156), in `direction`.
fn wfp_connection(n: &mut Net, direction: &str) {
    let (ws1, ws3) = (ws(1), ws(3));
    n.win(
        at(13),
        5156,
        "WS1",
        &[
            ("Direction", direction),
            ("SourceAddress", &ws1),
            ("SourcePort", "51000"),
            ("DestAddress", &ws3),
            ("DestPort", "3389"),
            ("Protocol", "6"),
            (
                "Application",
                "\\device\\harddiskvolume2\\windows\\system32\\mstsc.exe",
            ),
        ],
    );
}

/// Sysmon 1 on SRV: `parent` starts powershell.exe a minute after user6
/// logged on from ws6.
fn winrm_shell_sysmon(n: &mut Net, parent: &str) {
    n.logon(at(14), "SRV", "user6", &ws(6), true, true);
    let doc = serde_json::json!({
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Hostname": "SRV",
        "@timestamp": rfc3339(at(14) + 60),
        "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "CommandLine": "powershell.exe -enc SQBFAFgA",
        "User": "CORP\\user6",
        "ParentImage": parent,
    });
    n.win.push((at(14) + 60, doc.to_string()));
}

fn share_after_logon(n: &mut Net, share: &str) {
    n.logon(at(14), "SRV", "user6", &ws(6), true, true);
    n.win(
        at(14) + 30,
        5140,
        "SRV",
        &[
            ("SubjectUserName", "user6"),
            ("IpAddress", &ws(6)),
            ("IpPort", "50001"),
            ("ShareName", share),
        ],
    );
}

fn privilege(n: &mut Net, user: &str, from: &str) {
    n.logon(at(14), "FILES", user, from, true, true);
    n.privileged(at(14) + 1, "FILES", user);
}

fn psexec(n: &mut Net, after: i64) {
    n.ok(at(14), &ws(6), SRV, 445, 120_000);
    n.logon(at(14), "SRV", "user6", &ws(6), true, true);
    n.win(
        at(14) + after,
        7045,
        "SRV",
        &[
            ("ServiceName", "PSEXESVC"),
            ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
        ],
    );
}

/// An outside resolver.
const RESOLVER: &str = "198.51.100.53";

/// The DC answers every desk's DNS queries on the judged day and forwards
/// to `RESOLVER` every 300 s; with `known`, it did the same on the learning
/// days.
fn dns_forwarder(n: &mut Net, known: bool) {
    let days: Vec<i64> = if known {
        (0..=BASE_DAYS).collect()
    } else {
        vec![BASE_DAYS]
    };
    for d in days {
        let day = T0 + d * DAY;
        for k in 0..40 {
            let t = day + 6 * HOUR + k * 300;
            n.udp(t, DC, RESOLVER, 53, 40);
            n.udp(t + 7, &ws((k % 8) as usize), DC, 53, 40);
        }
    }
}

fn beacon(n: &mut Net, gaps: &[i64]) {
    let mut t = at(6);
    for g in gaps {
        n.ok(t, &ws(7), C2, 443, 310);
        t += g;
    }
    n.ok(t, &ws(7), C2, 443, 310);
}

/// Writes the fixture of `case` and runs `analyze --json -` on it, with the
/// detection settings `config` (TOML) if given; returns the alerts and the
/// report.
fn analyze(case: Case, config: Option<&str>) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::default();
    for d in 0..=BASE_DAYS {
        routine(&mut net, d);
    }
    case(&mut net);
    net.write(dir.path());
    let learn_until = rfc3339(at(0));
    let mut args = vec![
        "analyze",
        "-q",
        "--learn-until",
        &learn_until,
        "--json",
        "-",
        "conn.log",
        "security.jsonl",
        "auth.log",
    ];
    if dir.path().join("capture.pcap").exists() {
        args.push("capture.pcap");
    }
    if let Some(toml) = config {
        std::fs::write(dir.path().join("lateral.toml"), toml).unwrap();
        args.extend(["--config", "lateral.toml"]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(dir.path())
        .args(&args)
        .output()
        .expect("binary runs");
    let report = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}");
    let alerts = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an alert is JSON"))
        .collect();
    (alerts, report)
}

/// The alerts of `case` with the default settings.
fn alerts_of(case: Case) -> Vec<serde_json::Value> {
    analyze(case, None).0
}

/// Whether `rule` fired in `alerts`.
fn fired(alerts: &[serde_json::Value], rule: &str) -> bool {
    alerts
        .iter()
        .any(|a| a["rule"]["id"].as_str() == Some(rule))
}

/// Whether `side` (an alert's `source` or `destination`) is `want`.
fn side_is(side: &serde_json::Value, want: Option<&str>) -> bool {
    match want {
        None => side.is_null(),
        Some(w) => ["ip", "domain"]
            .iter()
            .any(|k| side[*k].as_str().is_some_and(|v| v.eq_ignore_ascii_case(w))),
    }
}

/// One line per alert: rule, source, destination.
fn summary(alerts: &[serde_json::Value]) -> String {
    alerts
        .iter()
        .map(|a| {
            format!(
                "    {} {} -> {}\n",
                a["rule"]["id"], a["source"], a["destination"]
            )
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_case_and_not_on_its_near_miss() {
    let mut failures = String::new();
    for (rule, name, case, expect) in RULES {
        let alerts = alerts_of(*case);
        let of_rule: Vec<&serde_json::Value> = alerts
            .iter()
            .filter(|a| a["rule"]["id"].as_str() == Some(rule))
            .collect();
        match expect {
            Fires(src, dst) => {
                if !of_rule
                    .iter()
                    .any(|a| side_is(&a["source"], *src) && side_is(&a["destination"], *dst))
                {
                    let _ = writeln!(
                        failures,
                        "{rule} [{name}]: expected to fire {src:?} -> {dst:?}; alerts:\n{}",
                        summary(&alerts)
                    );
                }
            }
            FiresLow(src, dst) => {
                let hits: Vec<&&serde_json::Value> = of_rule
                    .iter()
                    .filter(|a| side_is(&a["source"], *src) && side_is(&a["destination"], *dst))
                    .collect();
                let high = hits
                    .iter()
                    .any(|a| a["event"]["risk_score"].as_u64().is_none_or(|s| s >= 25));
                if hits.is_empty() || high {
                    let _ = writeln!(
                        failures,
                        "{rule} [{name}]: expected to fire low {src:?} -> {dst:?}; alerts:\n{}",
                        summary(&alerts)
                    );
                }
            }
            Silent => {
                if !of_rule.is_empty() {
                    let _ = writeln!(
                        failures,
                        "{rule} [{name}]: fired on the near miss:\n{}",
                        summary(&alerts)
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn the_table_covers_every_rule_both_ways() {
    // Every detector the binary runs (`src/detect/rules/mod.rs`) has a row that
    // fires and a near miss.
    let ids = [
        "lateral.new-admin-edge",
        "lateral.convergence",
        "lateral.fan-out",
        "lateral.new-logon-source",
        "lateral.account-spread",
        "lateral.explicit-credentials",
        "lateral.ntlm-where-kerberos",
        "lateral.brute-force",
        "lateral.password-spray",
        "lateral.first-privileged-logon",
        "lateral.remote-exec",
        "lateral.beaconing",
        "lateral.volume",
        "lateral.off-hours-session",
        "lateral.remote-process",
        "lateral.rdp-hijack",
        "lateral.rdp-denied",
        "lateral.forged-ticket",
        "lateral.remote-service",
        "lateral.dcsync",
        "lateral.kerberoast",
        "lateral.logged-admin-edge",
        "lateral.ldap-recon",
    ];
    for id in ids {
        let fires = RULES
            .iter()
            .any(|(r, _, _, e)| *r == id && matches!(e, Fires(..)));
        let silent = RULES
            .iter()
            .any(|(r, _, _, e)| *r == id && matches!(e, Silent));
        assert!(fires && silent, "{id}: fires {fires}, near miss {silent}");
    }
    assert!(
        RULES.iter().all(|(r, ..)| ids.contains(r)),
        "unknown rule id"
    );
}

#[test]
fn the_routine_alone_raises_nothing() {
    // The baseline every case builds on is quiet by itself, so what a case
    // raises comes from its own records; and every record the test wrote
    // was read: ten weekdays of 29 connections and 16 log events learned,
    // one judged.
    let (alerts, report) = analyze(|_| {}, None);
    assert!(alerts.is_empty(), "\n{}", summary(&alerts));
    // The report wraps its long lines: read it with the breaks undone.
    let report = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        report.contains("290 flows, 160 log events, 18 internal hosts)"),
        "{report}"
    );
    assert!(report.contains("(29 flows, 16 log events)"), "{report}");
}

/// Near misses just under a count or window threshold, with the setting
/// that moves the threshold past them: so a `Silent` row is silent
/// because of the threshold, not because its records went unread.
const THRESHOLDS: &[(&str, &str, &str)] = &[
    (
        "lateral.convergence",
        "two-desks-onto-srv",
        "[detect.convergence]\nmin_sources = 2\n",
    ),
    (
        "lateral.fan-out",
        "smb-sweep-of-8",
        "[detect.fan_out]\nmin_hosts = 8\n",
    ),
    (
        "lateral.account-spread",
        "user3-on-4-hosts",
        "[detect.credentials]\nspread_hosts = 4\n",
    ),
    (
        "lateral.brute-force",
        "four-failures-then-success",
        "[detect.credentials]\nbrute_force_failures = 4\n",
    ),
    (
        "lateral.password-spray",
        "four-accounts",
        "[detect.credentials]\nspray_accounts = 4\n",
    ),
    (
        "lateral.remote-exec",
        "service-an-hour-later",
        "[detect.remote_exec]\nwindow_minutes = 61\n",
    ),
    (
        "lateral.beaconing",
        "irregular",
        "[detect.beaconing]\nmax_jitter = 10.0\n",
    ),
    (
        "lateral.volume",
        "200kb-to-files",
        "[detect.volume]\nfactor = 2.0\nmin_bytes = 100000\n",
    ),
];

#[test]
fn near_misses_fire_once_their_threshold_is_lowered() {
    let mut failures = String::new();
    for (rule, name, toml) in THRESHOLDS {
        let (_, _, case, _) = RULES
            .iter()
            .find(|(r, n, _, e)| r == rule && n == name && matches!(e, Silent))
            .unwrap_or_else(|| panic!("no near miss {rule} [{name}]"));
        let (alerts, _) = analyze(*case, Some(toml));
        if !fired(&alerts, rule) {
            let _ = writeln!(
                failures,
                "{rule} [{name}] with {toml:?}: did not fire; alerts:\n{}",
                summary(&alerts)
            );
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}
