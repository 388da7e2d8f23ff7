//! Black-box tests of the binary's outputs and resource bounds: no output
//! over an input or other evidence, no output through a link, spilled runs
//! that leave nothing behind, capped whole-file reads, baseline headers
//! checked against the file, and bounded `--threads`. Every test works on
//! real files in a temporary directory and checks that inputs are unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LATERAL: &str = env!("CARGO_BIN_EXE_lateral");

fn run(args: &[&str]) -> Output {
    Command::new(LATERAL)
        .args(args)
        .output()
        .expect("binary runs")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(LATERAL)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/demo.pcap")
}

/// A copy of the demo capture at `dir/name`.
fn capture(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(demo(), &p).expect("copy the demo capture");
    p
}

/// A small sshd log at `dir/name`.
fn auth_log(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "Nov 30 08:{i:02}:00 srv sshd[{}]: Accepted password for alice from 10.20.0.11 port {} ssh2\n",
            1000 + i,
            50_000 + i
        ));
    }
    std::fs::write(&p, text).expect("write the log");
    p
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Entries of a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let t = tempfile::tempdir().unwrap();
    let log = auth_log(t.path(), "in.log");
    let before = bytes(&log);
    let o = run(&["-q", "events", s(&log), "-o", s(&log)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("also an input"), "{}", stderr(&o));
    assert_eq!(bytes(&log), before);

    let cap = capture(t.path(), "c.cap");
    let before = bytes(&cap);
    // The same file under another spelling, and through a hard link.
    let other = t.path().join(".").join("c.cap");
    let o = run(&["-q", "flows", s(&cap), "-o", s(&other)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let hard = t.path().join("hard.cap");
    std::fs::hard_link(&cap, &hard).unwrap();
    let o = run(&["-q", "--force", "flows", s(&cap), "-o", s(&hard)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("also an input"), "{}", stderr(&o));
    assert_eq!(bytes(&cap), before);
    assert_eq!(entries(t.path()), ["c.cap", "hard.cap", "in.log"]);
}

#[test]
fn json_taken_for_a_switch_does_not_overwrite_a_capture() {
    let t = tempfile::tempdir().unwrap();
    let c1 = capture(t.path(), "c1.cap");
    let c2 = capture(t.path(), "c2.cap");
    let before = bytes(&c1);
    let o = run(&["-q", "analyze", "--json", s(&c1), s(&c2)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("c1.cap") && e.contains("pcap capture"), "{e}");
    assert!(
        e.contains("--json takes the file") && e.contains("--force"),
        "{e}"
    );
    assert_eq!(bytes(&c1), before);
    assert_eq!(bytes(&c2), before);
}

#[test]
fn an_existing_log_is_replaced_only_with_force_and_reruns_over_alerts_are_fine() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let conn = t.path().join("conn.log");
    let o = run(&["-q", "flows", s(&cap), "-o", s(&conn)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = bytes(&conn);
    assert!(first.starts_with(b"#separator"));
    // A Zeek conn.log is a log lateral reads: kept without --force.
    std::fs::write(&conn, &first[..first.len() / 2]).unwrap();
    let kept = bytes(&conn);
    let o = run(&["-q", "flows", s(&cap), "-o", s(&conn)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("zeek log"), "{}", stderr(&o));
    assert_eq!(bytes(&conn), kept);
    let o = run(&["-q", "--force", "flows", s(&cap), "-o", s(&conn)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(bytes(&conn), first);

    // An earlier run's alerts are not evidence: a rerun replaces them.
    let alerts = t.path().join("alerts.jsonl");
    for _ in 0..2 {
        let o = run(&["-q", "analyze", s(&cap), "--json", s(&alerts)]);
        assert!(matches!(o.status.code(), Some(0 | 3)), "{}", stderr(&o));
    }
    // No temporary file is left next to the outputs.
    assert_eq!(entries(t.path()), ["alerts.jsonl", "c.cap", "conn.log"]);
}

#[test]
fn an_output_inside_an_input_directory_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("evidence");
    std::fs::create_dir(&dir).unwrap();
    capture(&dir, "c.cap");
    let out = dir.join("out.jsonl");
    let o = run(&["-q", "events", s(&dir), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inside the input directory"),
        "{}",
        stderr(&o)
    );
    assert_eq!(entries(&dir), ["c.cap"]);
}

#[cfg(unix)]
#[test]
fn outputs_never_write_through_symbolic_links() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let target = t.path().join("target.txt");
    std::fs::write(&target, b"keep me\n").unwrap();
    let link = t.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for args in [
        vec!["-q", "--force", "flows", s(&cap), "-o", s(&link)],
        vec!["-q", "analyze", s(&cap), "--json", s(&link)],
        vec!["-q", "baseline", "build", s(&cap), "-o", s(&link)],
        vec!["-q", "gen", "--scenario", "demo", "-o", s(&link)],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
        assert_eq!(bytes(&target), b"keep me\n");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn baselines_replace_baselines_but_not_captures_and_sweep_outputs_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let base = t.path().join("b.lat");
    for _ in 0..2 {
        let o = run(&["-q", "baseline", "build", s(&cap), "-o", s(&base)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let other = capture(t.path(), "other.cap");
    let before = bytes(&other);
    let o = run(&["-q", "baseline", "build", s(&cap), "-o", s(&other)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(bytes(&other), before);

    let base_bytes = bytes(&base);
    // --json over the baseline being read.
    let o = run(&[
        "-q",
        "sweep",
        "--baseline",
        s(&base),
        s(&cap),
        "--json",
        s(&base),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("also an input"), "{}", stderr(&o));
    // Two outputs naming one file.
    let same = t.path().join("same.jsonl");
    let o = run(&[
        "-q",
        "sweep",
        "--baseline",
        s(&base),
        s(&cap),
        "--json",
        s(&same),
        "--novelties",
        s(&same),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
    assert!(!same.exists());
    // The report over the capture being swept.
    let o = run(&[
        "-q",
        "sweep",
        "--baseline",
        s(&base),
        s(&cap),
        "-o",
        s(&cap),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(bytes(&base), base_bytes);
    assert_eq!(bytes(&cap), before);
    // Updating the baseline in place is what --update is for.
    let o = run(&["-q", "sweep", "--baseline", s(&base), s(&cap), "--update"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn gen_does_not_overwrite_a_capture_without_force() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let before = bytes(&cap);
    let o = run(&[
        "-q",
        "gen",
        "--scenario",
        "bulk",
        "--flows",
        "10",
        "--packets",
        "100",
        "-o",
        s(&cap),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(bytes(&cap), before);
    let o = run(&[
        "-q",
        "--force",
        "gen",
        "--scenario",
        "bulk",
        "--flows",
        "10",
        "--packets",
        "100",
        "-o",
        s(&cap),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(bytes(&cap), before);
}

#[test]
fn output_errors_name_the_output() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let missing = t.path().join("no-such-dir").join("out.log");
    let o = run(&["-q", "flows", s(&cap), "-o", s(&missing)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(s(&missing)), "{}", stderr(&o));
    if Path::new("/dev/full").exists() {
        let o = run(&["-q", "flows", s(&cap), "-o", "/dev/full"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("/dev/full"), "{}", stderr(&o));
    }
}

/// The spill files of a run that is killed: none is left in `$TMPDIR`, and
/// while they exist they are private.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_run_leaves_no_spill_files_and_they_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    let outdir = t.path().join("out");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::create_dir(&outdir).unwrap();
    let syn = t.path().join("syn.pcap");
    // 600,000 connections: past the 65,536 records held before a run spills.
    let o = run(&[
        "-q",
        "gen",
        "--scenario",
        "synflood",
        "--packets",
        "600000",
        "-o",
        s(&syn),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = outdir.join("conn.log");
    let mut child = Command::new(LATERAL)
        .args(["-q", "--threads", "1", "flows", s(&syn), "-o", s(&out)])
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let started = std::time::Instant::now();
    let mut spill_mode = None;
    while spill_mode.is_none() && started.elapsed().as_secs() < 60 {
        if let Ok(list) = std::fs::read_dir(&fds) {
            for fd in list.flatten() {
                let Ok(target) = std::fs::read_link(fd.path()) else {
                    continue;
                };
                // The descriptor may be closed and reused (for the output
                // file, say) between reading its link and its mode: a mode
                // counts only when the link still names the same file after.
                if target.starts_with(&tmp)
                    && let Ok(m) = std::fs::metadata(fd.path())
                    && std::fs::read_link(fd.path()).is_ok_and(|again| again == target)
                {
                    spill_mode = Some(m.permissions().mode() & 0o777);
                }
            }
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(spill_mode, Some(0o600), "a spill file was seen, private");
    assert!(
        entries(&tmp).is_empty(),
        "left in TMPDIR: {:?}",
        entries(&tmp)
    );
    assert!(!out.exists(), "no half-written output");
}

#[test]
fn analyze_without_a_temporary_directory_holds_a_floods_attempts_in_memory() {
    let t = tempfile::tempdir().unwrap();
    let syn = t.path().join("syn.pcap");
    let o = run(&[
        "-q",
        "gen",
        "--scenario",
        "synflood",
        "--packets",
        "200000",
        "-o",
        s(&syn),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let no_tmp = t.path().join("no-such-tmp");
    // `flows` needs a temporary directory for that many records...
    let o = Command::new(LATERAL)
        .args(["-q", "flows", s(&syn), "-o", s(&t.path().join("conn.log"))])
        .env("TMPDIR", &no_tmp)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // ...analyze, which would spill a flood's failed attempts there,
    // holds them in memory instead, says so, and judges them all.
    let o = Command::new(LATERAL)
        .args([
            "-q",
            "analyze",
            s(&syn),
            "--json",
            s(&t.path().join("a.jsonl")),
        ])
        .env("TMPDIR", &no_tmp)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("failed connection attempts are held in memory"),
        "{}",
        stderr(&o)
    );
    // With a temporary directory, the same alerts and no warning.
    let o2 = run(&[
        "-q",
        "analyze",
        s(&syn),
        "--json",
        s(&t.path().join("b.jsonl")),
    ]);
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    assert!(!stderr(&o2).contains("held in memory"), "{}", stderr(&o2));
    assert_eq!(
        std::fs::read(t.path().join("a.jsonl")).unwrap(),
        std::fs::read(t.path().join("b.jsonl")).unwrap()
    );
}

#[cfg(unix)]
#[test]
fn whole_file_reads_refuse_devices_and_oversized_files() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let started = std::time::Instant::now();
    let o = run(&["baseline", "info", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    for args in [
        vec!["-q", "events", s(&cap), "--hosts", "/dev/zero"],
        vec!["-q", "sweep", "--baseline", "/dev/zero", s(&cap)],
        vec!["eval", "--truth", "/dev/zero", s(&cap)],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }
    let o = run(&["-q", "analyze", s(&cap), "--config", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));

    // Sparse files larger than each cap: refused by size, not read.
    let big = |name: &str, len: u64| {
        let p = t.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(len).unwrap();
        p
    };
    let config = big("big.toml", 2 << 20);
    let o = run(&["-q", "analyze", s(&cap), "--config", s(&config)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than the 1 MiB"),
        "{}",
        stderr(&o)
    );
    let hosts = big("big.csv", 300 << 20);
    let o = run(&["-q", "events", s(&cap), "--hosts", s(&hosts)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than the 256 MiB"),
        "{}",
        stderr(&o)
    );
    let alerts = big("big.jsonl", (1 << 30) + 1);
    let truth = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/diet/truth.json");
    let o = run(&["eval", "--truth", s(&truth), s(&alerts)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than the 1024 MiB"),
        "{}",
        stderr(&o)
    );
    let seen = big("seen.jsonl", (1 << 30) + 1);
    let base = t.path().join("b.lat");
    let o = run(&["-q", "baseline", "build", s(&cap), "-o", s(&base)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&[
        "-q",
        "sweep",
        "--baseline",
        s(&base),
        s(&cap),
        "--seen",
        s(&seen),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than the 1024 MiB"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed().as_secs() < 60);
}

/// Rewrites a baseline header field and the checksum, as the writer does:
/// CRC-32 of the payload followed by header bytes 0..32.
fn patch_header(file: &mut [u8], at: usize, value: u64) {
    file[at..at + 8].copy_from_slice(&value.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&file[36..]);
    crc.update(&file[..32]);
    let sum = crc.finalize();
    file[32..36].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn baseline_lengths_are_checked_before_anything_is_allocated() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let base = t.path().join("b.lat");
    let o = run(&["-q", "baseline", "build", s(&cap), "-o", s(&base)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let good = bytes(&base);
    assert_eq!(&good[..8], b"LATBASE\0");
    let o = run(&["baseline", "info", s(&base)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A checksum-valid header claiming 4 GiB decoded from a few KiB stored.
    let mut claim = good.clone();
    patch_header(&mut claim, 24, 4 << 30);
    let bad = t.path().join("claim.lat");
    std::fs::write(&bad, &claim).unwrap();
    let o = run(&["baseline", "info", s(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("decoded bytes from") && stderr(&o).contains("more than the"),
        "{}",
        stderr(&o)
    );

    // A zstd bomb: 64 MiB of zeros in a few KiB, header and checksum true.
    let zeros = vec![0u8; 64 << 20];
    let payload = zstd::encode_all(&zeros[..], 3).unwrap();
    let mut bomb = good[..36].to_vec();
    bomb.extend_from_slice(&payload);
    bomb[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    patch_header(&mut bomb, 24, 64 << 20);
    let bomb_path = t.path().join("bomb.lat");
    std::fs::write(&bomb_path, &bomb).unwrap();
    let o = run(&["profile", "10.0.0.1", "--baseline", s(&bomb_path)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("more than the"), "{}", stderr(&o));

    // A stored length past the end of the file.
    let mut long = good.clone();
    patch_header(&mut long, 16, u64::MAX / 2);
    let long_path = t.path().join("long.lat");
    std::fs::write(&long_path, &long).unwrap();
    let o = run(&["baseline", "info", s(&long_path)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    assert_eq!(bytes(&base), good);
}

#[test]
fn threads_are_bounded_at_parse_time() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    for bad in ["0", "10000", "-3"] {
        let o = run(&["-q", "--threads", bad, "flows", s(&cap)]);
        assert_eq!(o.status.code(), Some(2), "--threads {bad}: {}", stderr(&o));
    }
    let started = std::time::Instant::now();
    let o = run(&["-q", "--threads", "1024", "flows", s(&cap)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(started.elapsed().as_secs() < 20);
    let help = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    assert!(help.contains("1 to 1024"), "{help}");
}

#[test]
fn learn_says_how_to_write_a_share() {
    let t = tempfile::tempdir().unwrap();
    let cap = capture(t.path(), "c.cap");
    let o = run_in(t.path(), &["-q", "analyze", "c.cap", "--learn", "70"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("`70%`") && e.contains("`0.7`"), "{e}");
    for ok in ["70%", "0.7"] {
        let o = run(&["-q", "analyze", s(&cap), "--learn", ok]);
        assert!(
            matches!(o.status.code(), Some(0 | 3)),
            "{ok}: {}",
            stderr(&o)
        );
    }
}
