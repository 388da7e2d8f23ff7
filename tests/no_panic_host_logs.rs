//! Property tests: auditd lines and lab-shaped Zeek JSON built from hostile
//! pieces (quotes, hex, `msg='`, enriched separators, huge numbers, binary)
//! never panic the readers; every audit line's time, read cheaply, is the
//! time of every event it gives (what lets `lateral events` stream it); and
//! stored strings stay capped.

use lateral::model::event::LogEvent;
use lateral::source::auditd::{AuditLines, MAX_COMMAND, MAX_TEXT};
use lateral::source::{LineFormat, LineTime};
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "type=",
    "USER_LOGIN",
    "USER_AUTH",
    "USER_CMD",
    "SYSCALL",
    "EXECVE",
    "node=h ",
    " msg=audit(",
    "1700000000.123:456",
    "99999999999999999999",
    "):",
    ")",
    " ",
    " ",
    "=",
    "\"",
    "'",
    "msg='",
    "\x1d",
    "acct=",
    "616C696365",
    "0",
    "a0=",
    "a1[0]=",
    "a1[",
    "argc=3",
    "exe=",
    "/usr/sbin/sshd",
    "addr=",
    "10.0.0.1",
    "::ffff:10.0.0.1",
    "?",
    "res=success",
    "res=failed",
    "arch=c000003e syscall=59",
    "AUID=\"alice\"",
    "cmd=",
    "é",
    "\u{fffd}",
    "\0",
    "\r",
];

fn assemble(idx: &[usize]) -> String {
    idx.iter().map(|&i| PIECES[i % PIECES.len()]).collect()
}

fn check_line(line: &[u8]) {
    let mut out: Vec<LogEvent> = Vec::new();
    let parsed = AuditLines.parse_line(line, &mut out);
    match AuditLines.line_time(line) {
        LineTime::At(t) => assert!(out.iter().all(|e| e.ts == t)),
        LineTime::NoEvent => assert!(out.is_empty()),
        LineTime::Unknown => panic!("auditd lines always tell their time"),
    }
    if parsed.is_err() {
        assert!(out.is_empty());
    }
    for e in &out {
        assert!(e.user_name.as_ref().is_none_or(|u| u.len() <= MAX_TEXT));
        assert!(
            e.process_command_line()
                .is_none_or(|c| c.len() <= MAX_COMMAND)
        );
        assert!(e.process_executable().is_none_or(|c| c.len() <= MAX_TEXT));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn assembled_audit_lines_never_panic_and_tell_their_time(idx in proptest::collection::vec(any::<usize>(), 0..60)) {
        let text = format!("type=USER_LOGIN msg=audit(1700000000.1:2): {}", assemble(&idx));
        check_line(text.as_bytes());
        check_line(assemble(&idx).as_bytes());
    }

    #[test]
    fn arbitrary_bytes_through_auditd_and_zeek_json_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut line = b"type=EXECVE msg=audit(1.5:7): ".to_vec();
        line.extend_from_slice(&body);
        check_line(&line);
        lateral::fuzz_log("auditd", &body);
        let mut zeek = br#"{"@stream":"conn","ts":"2020-09-22T18:53:30Z","id_orig_h":"#.to_vec();
        zeek.extend_from_slice(&body);
        lateral::fuzz_log("zeek-json", &zeek);
    }
}
