//! Property tests: Zeek logs and LANL files built from hostile pieces
//! (separators, escapes, unset markers, header lines, huge numbers, binary)
//! never panic the readers, and every data line is either read or counted
//! as skipped.

use lateral::collect::flow_store::FlowStore;
use lateral::input::ByteWindow;
use lateral::model::event::{LogEvent, Timestamp};
use lateral::source::LineFormat;
use lateral::source::lanl::{LanlKind, LanlLines, sniff_lanl};
use lateral::source::zeek_log::{looks_like_zeek_json, looks_like_zeek_tsv, read_zeek};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

const PIECES: &[&str] = &[
    "\t",
    "\t",
    "\t",
    ",",
    "\n",
    "\n",
    "-",
    "(empty)",
    "\\x",
    "\\x09",
    "\\",
    "#",
    "#fields\t",
    "#separator \\x2c\n",
    "#path\tconn\n",
    "#path\tdns\n",
    "1692161622.036086",
    "XXXXXXXXXX.XXXXXX",
    "99999999999999999999",
    "-1",
    "tcp",
    "icmp",
    "SF",
    "10.0.0.1",
    "::1",
    "445",
    "T",
    "F",
    "C1",
    "{",
    "}",
    "\"ts\":",
    "\"id.orig_h\":",
    "[",
    "]",
    "\"",
    ":",
    "U1@DOM1",
    "C625",
    "?",
    "LogOn",
    "Success",
    "\u{fffd}",
    "\0",
    "é",
];

const CONN_HEADER: &str = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\tconn_state\tanswers\n";

fn assemble(idx: &[usize]) -> String {
    idx.iter().map(|&i| PIECES[i % PIECES.len()]).collect()
}

fn read(text: &[u8], json: bool) {
    let store = FlowStore::new(64);
    let mut w = ByteWindow::owned(text.to_vec());
    let r = read_zeek(
        &mut w,
        &Arc::from("conn.log"),
        json,
        &store,
        &AtomicU64::new(0),
    );
    let flows = store.finish().unwrap();
    // Every data line is accounted for: an event or flow, a skip, or a
    // line that maps to nothing (other logs, dns without answers).
    assert!(r.flows + r.text.diag.total() <= r.text.records);
    assert_eq!(flows.len(), r.flows);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn zeek_tsv_and_json_never_panic(idx in proptest::collection::vec(any::<usize>(), 0..300)) {
        let body = assemble(&idx);
        let mut tsv = CONN_HEADER.to_string();
        tsv.push_str(&body);
        read(tsv.as_bytes(), false);
        read(body.as_bytes(), false);
        read(body.as_bytes(), true);
        let _ = looks_like_zeek_tsv(body.as_bytes());
        let _ = looks_like_zeek_json(body.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_zeek_reader(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut tsv = CONN_HEADER.as_bytes().to_vec();
        tsv.extend_from_slice(&bytes);
        read(&tsv, false);
        read(&bytes, true);
    }

    #[test]
    fn lanl_lines_never_panic(idx in proptest::collection::vec(any::<usize>(), 0..60)) {
        let line = assemble(&idx);
        let mut out: Vec<LogEvent> = Vec::new();
        for kind in [LanlKind::Auth, LanlKind::Flows, LanlKind::Dns, LanlKind::Proc, LanlKind::Redteam, LanlKind::Netflow] {
            let f = LanlLines { kind, epoch: Timestamp(i64::MAX - 5) };
            let _ = f.parse_line(line.as_bytes(), &mut out);
        }
        let _ = sniff_lanl(line.as_bytes());
    }
}
