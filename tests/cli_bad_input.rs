//! Black-box tests of bad input through the real binary: nothing a user
//! names is lost, hung on, or silently ignored. Every case writes real
//! bytes to a temporary directory and checks the exit status and the
//! message on stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with `args`, killing it (and failing) if it takes more
/// than 60 seconds: a hang is a failure, not a stuck test run.
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    // Drain both pipes on threads so a large output cannot block the child.
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("lateral {args:?} hung for 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().expect("stdout thread"),
        stderr: t_err.join().expect("stderr thread"),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
fn assert_code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stderr:\n{}", stderr(o));
}

/// Asserts stderr has a line containing every one of `parts`.
fn assert_line(o: &Output, parts: &[&str]) {
    let err = stderr(o);
    assert!(
        err.lines().any(|l| parts.iter().all(|p| l.contains(p))),
        "no stderr line with all of {parts:?}:\n{err}"
    );
}

const CONN_HEADER: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
";

const CONN_ROW: &str = "1420070460.250000\tCabc\t10.0.0.5\t49152\t10.0.0.9\t445\ttcp\tsmb\t2.500000\t1200\t800\tSF\t-\t-\t0\tShADadFf\t10\t1800\t8\t1300\t-\n";

const WIN_LINE: &str = r#"{"EventID":4624,"TimeCreated":"2024-01-01T00:00:00Z","Computer":"dc1","TargetUserName":"bob","IpAddress":"10.0.0.5","LogonType":3}"#;

const AUTH_LOG: &str = "\
Jul 25 10:00:01 srv-chamber sshd[811]: Accepted password for tanaka from 10.10.1.12 port 41022 ssh2
Jul 25 10:05:00 srv-chamber sshd[900]: Failed password for invalid user oracle from 203.0.113.66 port 5555 ssh2
";

fn good_conn_log() -> String {
    format!("{CONN_HEADER}{CONN_ROW}")
}

/// A classic pcap header (little-endian, microseconds) with `linktype`.
fn pcap_header(linktype: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(0xa1b2_c3d4u32.to_le_bytes());
    v.extend(2u16.to_le_bytes());
    v.extend(4u16.to_le_bytes());
    v.extend(0i32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend(65535u32.to_le_bytes());
    v.extend(linktype.to_le_bytes());
    v
}

fn pcap_record(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(1_700_000_000u32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend((data.len() as u32).to_le_bytes());
    v.extend((data.len() as u32).to_le_bytes());
    v.extend(data);
    v
}

/// An Ethernet frame with an IPv4/TCP SYN from 10.0.0.1:1234 to 10.0.0.2:445.
fn tcp_syn_frame() -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend([0x08, 0x00]);
    let mut ip = vec![
        0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let mut sum: u32 = 0;
    for c in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    f.extend(ip);
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&1234u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&445u16.to_be_bytes());
    tcp[12] = 0x50;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&8192u16.to_be_bytes());
    f.extend(tcp);
    f
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

// ---- defect 1: everything rejected, or nothing at all, is never silent ----

#[test]
fn zeek_log_with_wrong_column_counts_is_a_warning_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("{CONN_HEADER}1.0\tC1\t10.0.0.1\n2.0\tC2\t10.0.0.1\t5\n");
    let p = write(dir.path(), "conn.log", bad);
    for cmd in ["events", "analyze"] {
        let o = run(&[cmd, "-q", s(&p)]);
        assert_code(&o, 3);
        assert_line(&o, &[s(&p), "all 2 record(s) were skipped", "column count"]);
        // Where the first bad line is.
        assert_line(&o, &[&format!("{}:8", s(&p))]);
    }
    // baseline build shares the pipeline.
    let out = dir.path().join("b.lbl");
    let o = run(&["baseline", "build", "-q", "-o", s(&out), s(&p)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "all 2 record(s) were skipped"]);
}

#[test]
fn pcap_with_an_unknown_link_type_is_a_warning_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = pcap_header(999);
    bytes.extend(pcap_record(b"abcdabcdabcd"));
    bytes.extend(pcap_record(b"efghefghefgh"));
    let p = write(dir.path(), "odd.pcap", bytes);
    let o = run(&["flows", s(&p)]);
    assert_code(&o, 3);
    assert_line(
        &o,
        &[
            s(&p),
            "all 2 record(s) were skipped",
            "unsupported link type",
        ],
    );
    // The same capture with Ethernet frames is read cleanly.
    let mut good = pcap_header(1);
    good.extend(pcap_record(&tcp_syn_frame()));
    let g = write(dir.path(), "good.pcap", good);
    let o = run(&["flows", s(&g)]);
    assert_code(&o, 0);
}

#[test]
fn pcapng_packets_on_an_undeclared_interface_are_a_warning_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = Vec::new();
    // Section header block, no interface description block.
    v.extend(0x0a0d_0d0au32.to_le_bytes());
    v.extend(28u32.to_le_bytes());
    v.extend(0x1a2b_3c4du32.to_le_bytes());
    v.extend(1u16.to_le_bytes());
    v.extend(0u16.to_le_bytes());
    v.extend((-1i64).to_le_bytes());
    v.extend(28u32.to_le_bytes());
    // An enhanced packet block on interface 0.
    let frame = tcp_syn_frame();
    let padded = frame.len().div_ceil(4) * 4;
    let total = (32 + padded) as u32;
    v.extend(6u32.to_le_bytes());
    v.extend(total.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend((frame.len() as u32).to_le_bytes());
    v.extend((frame.len() as u32).to_le_bytes());
    v.extend(&frame);
    v.resize(v.len() + padded - frame.len(), 0);
    v.extend(total.to_le_bytes());
    let p = write(dir.path(), "noif.pcapng", v);
    let o = run(&["flows", s(&p)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "skipped", "undeclared interface"]);
    // Where: the packet block's byte offset.
    assert_line(&o, &[&format!("{}@28", s(&p))]);
}

#[test]
fn one_huge_line_is_skipped_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    // 20 MiB on one line, looking like Windows JSON: more than the line
    // cap and than one read chunk.
    let mut bytes = br#"{"EventID": 4624, "pad": ""#.to_vec();
    bytes.resize(20 << 20, b'a');
    bytes.extend(b"\"}\n");
    let p = write(dir.path(), "huge.json", bytes);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 3);
    assert_line(
        &o,
        &[
            s(&p),
            "all 1 record(s) were skipped",
            "line longer than 1 MiB",
        ],
    );
    assert_line(&o, &[&format!("{}:1", s(&p))]);
    // A good line after it is still read.
    let mut bytes = br#"{"EventID": 4624, "pad": ""#.to_vec();
    bytes.resize(20 << 20, b'a');
    bytes.extend(b"\"}\n");
    bytes.extend(WIN_LINE.as_bytes());
    bytes.push(b'\n');
    let p = write(dir.path(), "huge2.json", bytes);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn a_byte_order_mark_is_stripped_from_windows_json_and_zeek_logs() {
    let dir = tempfile::tempdir().unwrap();
    let win = write(dir.path(), "win.json", format!("\u{feff}{WIN_LINE}\n"));
    let o = run(&["events", s(&win)]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("\"logged-in\"") && out.contains("\"line\":1"),
        "{out}"
    );

    let zeek_dir = dir.path().join("z");
    let conn = write(
        &zeek_dir,
        "conn.log",
        format!("\u{feff}{}", good_conn_log()),
    );
    let o = run(&["events", s(&conn)]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("10.0.0.9"), "{out}");
}

#[test]
fn a_missing_file_is_named_and_exit_3_even_beside_good_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let alerts = dir.path().join("alerts.jsonl");
    let o = run(&["analyze", "-q", s(&missing), "--json", s(&alerts)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&missing), "No such file"]);
    // Nothing read: no report dated 1970 that reads as "all clear", no output.
    assert_line(&o, &["nothing was judged"]);
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!alerts.exists());
    let good = write(dir.path(), "win.json", format!("{WIN_LINE}\n"));
    let o = run(&["events", s(&good), s(&missing)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&missing), "No such file"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn an_empty_directory_is_a_warning_and_not_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for cmd in ["analyze", "events", "flows"] {
        let o = run(&[cmd, "-q", s(&empty)]);
        assert_code(&o, 3);
        assert_line(&o, &["no input files found under", s(&empty)]);
    }
}

#[test]
fn a_header_only_zeek_log_says_it_held_no_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "conn.log", CONN_HEADER);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "no records"]);
}

// ---- defect 2: directory walks ----

#[cfg(unix)]
#[test]
fn symlinks_inside_a_walked_directory_are_listed_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write(&data, "win.json", format!("{WIN_LINE}\n"));
    std::os::unix::fs::symlink(".", data.join("again")).unwrap();
    std::os::unix::fs::symlink("..", data.join("up")).unwrap();
    std::os::unix::fs::symlink("win.json", data.join("alias.json")).unwrap();
    let o = run(&["events", s(&data)]);
    assert_code(&o, 0);
    // The one event, once.
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    assert_line(
        &o,
        &[
            "note:",
            s(&data.join("again")),
            "symbolic link",
            "not followed",
        ],
    );
    assert_line(&o, &["note:", s(&data.join("alias.json"))]);
    // A symbolic link named on the command line is followed, once.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let o = run(&["events", s(&link), s(&data)]);
    assert_code(&o, 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[cfg(unix)]
#[test]
fn hard_links_and_repeated_names_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = write(&data, "a.json", format!("{WIN_LINE}\n"));
    std::fs::hard_link(&a, data.join("b.json")).unwrap();
    let o = run(&["events", s(&data), s(&a)]);
    assert_code(&o, 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    assert_line(&o, &["note:", "b.json", "the same file as"]);
}

/// Makes a FIFO with mkfifo(1); false when it is not available.
#[cfg(unix)]
fn mkfifo(p: &Path) -> bool {
    Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn fifos_are_never_opened_in_a_walk_or_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write(&data, "win.json", format!("{WIN_LINE}\n"));
    let fifo = data.join("pipe");
    if !mkfifo(&fifo) {
        eprintln!("SKIPPED: mkfifo not available");
        return;
    }
    // Nobody writes to the FIFO: opening it would block for ever.
    let o = run(&["events", s(&data)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&fifo), "named pipe (FIFO)", "never opened"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    let o = run(&["analyze", "-q", s(&fifo)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&fifo), "named pipe (FIFO)"]);
}

#[test]
fn directories_too_deep_are_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().join("top");
    write(&deep, "win.json", format!("{WIN_LINE}\n"));
    for _ in 0..70 {
        deep.push("d");
    }
    write(&deep, "deep.json", format!("{WIN_LINE}\n"));
    let o = run(&["events", s(&dir.path().join("top"))]);
    assert_code(&o, 3);
    assert_line(&o, &["nested more than 64 directories deep"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn documentation_and_truth_files_in_a_walk_are_left_out_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write(&data, "win.json", format!("{WIN_LINE}\n"));
    write(&data, "metadata/host.yaml", "title: an OTRF data set\n");
    write(&data, "README.md", "# About\n");
    write(&data, "README", "about\n");
    write(&data, "LICENSE.txt", "MIT\n");
    // Recognised by its name whatever it holds.
    write(&data, "truth.json", "{\"hosts\": []}\n");
    let o = run(&["events", s(&data)]);
    assert_code(&o, 0);
    for f in [
        "metadata/host.yaml",
        "README.md",
        "README",
        "LICENSE.txt",
        "truth.json",
    ] {
        assert_line(&o, &["note:", s(&data.join(f)), "skipped"]);
    }
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    // With -q the notes go, and it still exits 0.
    let o = run(&["events", "-q", s(&data)]);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
    // Named on the command line, a .yaml is still an error.
    let yaml = data.join("metadata/host.yaml");
    let o = run(&["events", s(&yaml)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&yaml), "not a capture or log"]);
}

#[test]
fn a_generated_scenario_directory_analyzes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quiet");
    let o = run(&[
        "gen",
        "--scenario",
        "quiet",
        "--hosts",
        "20",
        "--hours",
        "6",
        "-o",
        s(&out),
    ]);
    assert_code(&o, 0);
    assert!(out.join("truth.json").is_file());
    let o = run(&["analyze", s(&out)]);
    assert_code(&o, 0);
    assert_line(&o, &["note:", "truth.json", "ground truth"]);
}

// ---- part of defect 5: usage and messages ----

#[test]
fn format_evtx_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "win.json", format!("{WIN_LINE}\n"));
    let o = run(&["events", "-f", "evtx", s(&p)]);
    // Not a usage error: the flag is known, the file is not EVTX.
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "not an EVTX file"]);
}

#[test]
fn a_baseline_file_given_as_input_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write(dir.path(), "win.json", format!("{WIN_LINE}\n"));
    let base = dir.path().join("base.lbl");
    let o = run(&["baseline", "build", "-q", "-o", s(&base), s(&logs)]);
    assert_code(&o, 0);
    let o = run(&["analyze", "-q", s(&base)]);
    assert_code(&o, 3);
    assert_line(
        &o,
        &[s(&base), "a lateral baseline file; pass it with --baseline"],
    );
}

#[test]
fn the_assumed_syslog_year_is_noted_once_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "auth.log", AUTH_LOG);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert_line(&o, &["note:", s(&p), "assumed", "--year overrides"]);
    let o = run(&["events", "--year", "2011", s(&p)]);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("assumed"), "{}", stderr(&o));
}

#[test]
fn junk_after_a_gzip_stream_is_named_and_what_came_before_is_kept() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(format!("{WIN_LINE}\n").as_bytes()).unwrap();
    let mut bytes = e.finish().unwrap();
    let cut = bytes.len();
    bytes.extend(b"this is not gzip");
    let p = write(dir.path(), "win.json.gz", bytes);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 3);
    assert_line(
        &o,
        &[
            s(&p),
            &format!("gzip: trailing data after the compressed stream at compressed byte {cut}"),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn zstd_errors_say_zstd_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The zstd magic, then a frame header no decoder accepts.
    let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd];
    bytes.extend([0xff; 64]);
    let p = write(dir.path(), "bad.zst", bytes);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "zstd:"]);
    // A frame declaring a 2 GiB window (what `zstd --long=31` writes to a
    // stream): refused, and the message says why and what to do.
    let p = write(
        dir.path(),
        "long.zst",
        [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00],
    );
    let o = run(&["events", s(&p)]);
    assert_code(&o, 3);
    assert_line(&o, &[s(&p), "zstd: ", "window larger than 128 MiB"]);
}

#[test]
fn gzip_members_one_after_another_are_all_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for _ in 0..3 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(format!("{WIN_LINE}\n").as_bytes()).unwrap();
        bytes.extend(e.finish().unwrap());
    }
    let p = write(dir.path(), "three.json.gz", bytes);
    let o = run(&["events", s(&p)]);
    assert_code(&o, 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
}
