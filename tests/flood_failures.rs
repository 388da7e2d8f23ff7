//! A streamed analysis counts, instead of holding, the judged failed
//! attempts (sshd logons; Windows network logons and Kerberos
//! pre-authentications) of addresses that no rule can group (fewer
//! events name them than `lateral.brute-force` and
//! `lateral.password-spray` need failures of one source). The alerts and the report must be the bytes of
//! `--keep-judged`, which holds every judged event, on a flood of
//! distinct sources with a brute force, a spray and a source whose
//! failures straddle the cut planted in it.

mod common;

use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_lateral");

/// An sshd log of `lines` lines over three days, most failures from a
/// distinct outside address, some accepted from inside, and the planted
/// attacks of the module docs on the third day.
fn flood(path: &Path, lines: u64) {
    use common::sshd_flood::{Draws, line, stamp};
    let mut draws = Draws(0x2545_F491_4F6C_DD1D);
    let users = ["root", "admin", "oracle", "alice", "bob", "carol"];
    let mut out: Vec<(u64, String)> = Vec::new();
    for i in 0..lines {
        let t = i * 3 * 86_400 / lines;
        out.push((t, line(t, draws.next(), 1000 + i % 5000, &users)));
    }
    let day3 = 2 * 86_400 + 10 * 3600;
    for i in 0..6u64 {
        out.push((
            day3 + i * 3,
            format!(
                "{} web05 sshd[777]: Failed password for root from 203.0.113.9 port {} ssh2\n",
                stamp(day3 + i * 3),
                40_000 + i
            ),
        ));
    }
    out.push((
        day3 + 30,
        format!(
            "{} web05 sshd[777]: Accepted password for root from 203.0.113.9 port 40010 ssh2\n",
            stamp(day3 + 30)
        ),
    ));
    for (i, u) in users.iter().enumerate() {
        let t = day3 + 3600 + i as u64 * 5;
        out.push((
            t,
            format!(
                "{} web07 sshd[778]: Failed password for {u} from 198.51.100.7 port {} ssh2\n",
                stamp(t),
                41_000 + i
            ),
        ));
    }
    for t in [
        5 * 3600,
        5 * 3600 + 1,
        5 * 3600 + 2,
        5 * 3600 + 3,
        day3 + 7200,
    ] {
        out.push((
            t,
            format!(
                "{} web09 sshd[779]: Failed password for alice from 192.0.2.44 port 42000 ssh2\n",
                stamp(t)
            ),
        ));
    }
    out.sort_by_key(|(t, _)| *t);
    let text: String = out.into_iter().map(|(_, l)| l).collect();
    std::fs::write(path, text).expect("write flood");
}

#[test]
fn counted_failures_give_the_alerts_and_report_of_holding_every_judged_event() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    flood(&dir.join("sshd.log"), 40_000);
    same_as_holding(dir, "sshd.log", 8_000);
}

/// A Windows log of `lines` events over three days (see
/// `common::win_flood`: failed network logons and failed Kerberos
/// pre-authentications from distinct outside addresses), and on the
/// third day a brute force (six failed network logons and a success from
/// one address), a spray (six accounts from one address), a spray of
/// three failed network logons and three failed pre-authentications
/// from one address, and an address failing four times on the first day
/// and once on the third.
fn windows_flood(path: &Path, lines: u64) {
    use common::sshd_flood::Draws;
    use common::win_flood::{line, logon, preauth_failed};
    let mut draws = Draws(0x9E37_79B9_7F4A_7C15);
    let users = ["administrator", "admin", "backup", "alice", "bob", "carol"];
    let mut out: Vec<(u64, String)> = Vec::new();
    for i in 0..lines {
        let t = i * 3 * 86_400 / lines;
        out.push((t, line(t, draws.next(), &users)));
    }
    let day3 = 2 * 86_400 + 10 * 3600;
    for i in 0..6u64 {
        let t = day3 + i * 3;
        out.push((t, logon(t, false, "fs05", "administrator", "203.0.113.9")));
    }
    out.push((
        day3 + 30,
        logon(day3 + 30, true, "fs05", "administrator", "203.0.113.9"),
    ));
    for (i, u) in users.iter().enumerate() {
        let t = day3 + 3600 + i as u64 * 5;
        out.push((t, logon(t, false, "fs07", u, "198.51.100.7")));
        let t = day3 + 7200 + i as u64 * 5;
        let l = if i % 2 == 0 {
            logon(t, false, "fs08", u, "198.51.100.8")
        } else {
            preauth_failed(t, u, "198.51.100.8")
        };
        out.push((t, l));
    }
    for t in [
        5 * 3600,
        5 * 3600 + 1,
        5 * 3600 + 2,
        5 * 3600 + 3,
        day3 + 9000,
    ] {
        out.push((t, logon(t, false, "fs09", "alice", "192.0.2.44")));
    }
    out.sort_by_key(|(t, _)| *t);
    let text: String = out.into_iter().map(|(_, l)| l).collect();
    std::fs::write(path, text).expect("write flood");
}

#[test]
fn counted_windows_failures_give_the_alerts_and_report_of_holding_every_judged_event() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    windows_flood(&dir.join("security.jsonl"), 30_000);
    let alerts = same_as_holding(dir, "security.jsonl", 6_000);
    // The mixed spray (network logons and pre-authentications) fires too.
    assert!(
        alerts
            .lines()
            .any(|l| l.contains("lateral.password-spray") && l.contains("198.51.100.8")),
        "no spray from 198.51.100.8:\n{alerts}"
    );
}

/// Analyses `file` in `dir` with `--threads` 1 and 2, counting and with
/// `--keep-judged`, and checks that the alerts and the report are the
/// same, that the planted brute force and spray fire, and that more than
/// `min_not_held` judged events were counted, not held. The alerts.
fn same_as_holding(dir: &Path, file: &str, min_not_held: u64) -> String {
    let mut alerts = String::new();
    for threads in ["1", "2"] {
        let run = |how: &str, out: &str| {
            common::run_ok(
                BIN,
                dir,
                &[
                    "--threads",
                    threads,
                    "analyze",
                    "-q",
                    how,
                    "--json",
                    out,
                    file,
                ],
            )
        };
        let held = run("--keep-judged", "held.json");
        let counted = run("--stats", "counted.json");
        let want = std::fs::read_to_string(dir.join("held.json")).expect("held alerts");
        let got = std::fs::read_to_string(dir.join("counted.json")).expect("counted alerts");
        assert_eq!(want, got, "alerts differ with --threads {threads}");
        assert_eq!(
            String::from_utf8_lossy(&held.stdout),
            String::from_utf8_lossy(&counted.stdout),
            "reports differ with --threads {threads}"
        );
        // The planted attacks still fire.
        assert!(got.contains("lateral.brute-force"), "no brute force");
        assert!(got.contains("lateral.password-spray"), "no spray");
        // And the flood's failures were counted, not held: most of the
        // judged third are on the `not held` line.
        let stats = String::from_utf8_lossy(&counted.stderr);
        let not_held: u64 = stats
            .lines()
            .find(|l| l.trim_start().starts_with("not held"))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|n| n.parse().ok())
            .expect("a not held line");
        assert!(
            not_held > min_not_held,
            "only {not_held} not held:\n{stats}"
        );
        alerts = got;
    }
    alerts
}
