//! The Spark job (`scripts/lateral_spark.py`) in Spark's local mode: a
//! generated network (`lateral gen --scenario diet --zeek`) split into one
//! directory per UTC day, the first days learned from and the rest judged,
//! files spread over several partitions, partial baselines and summaries
//! built on the partitions and tree-reduced. The alerts it writes are those
//! of one `lateral baseline build` + `lateral analyze --baseline` run over
//! the same inputs, byte for byte, and so is the baseline.
//!
//! Needs a Java runtime (`java -version`) and Python 3 with `venv`; pyspark
//! is installed from PyPI into a virtual environment under `target/`
//! (once, under `timeout 900`). Where any of that cannot be had the test
//! prints SKIPPED and passes, except under `CI=true`, where it fails
//! (`.ci/run` installs `default-jre-headless`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Says why the test cannot run: fails under CI, else prints SKIPPED.
fn unavailable(why: &str) {
    assert!(!in_ci(), "spark_job: {why}: required in CI");
    eprintln!("SKIPPED spark_job: {why}");
}

fn succeeded(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// A Python with pyspark: the virtual environment under `target/`, made
/// (and pyspark installed) when missing. `Err` says why there is none.
fn pyspark_python() -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let venv = target.join("spark-venv");
    let python = venv.join("bin/python");
    let has_pyspark = |p: &Path| succeeded(Command::new(p).args(["-c", "import pyspark"]));
    if python.is_file() && has_pyspark(&python) {
        return Ok(python);
    }
    if !succeeded(Command::new("python3").arg("--version")) {
        return Err("python3 not found".into());
    }
    let venv_s = venv.display().to_string();
    if !python.is_file()
        && !succeeded(Command::new("timeout").args(["900", "python3", "-m", "venv", &venv_s]))
    {
        return Err(format!(
            "python3 -m venv {venv_s} failed (install python3-venv)"
        ));
    }
    let pip = venv.join("bin/pip").display().to_string();
    let out = Command::new("timeout")
        .args(["900", &pip, "install", "-q", "pyspark"])
        .output()
        .map_err(|e| format!("running pip: {e}"))?;
    if !out.status.success() || !has_pyspark(&python) {
        return Err(format!(
            "pip install pyspark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(python)
}

fn lateral(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The UTC day of a generated log or conn.log line; `None` for a header.
fn day_of(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    if let Some(rest) = line.strip_prefix("{\"@timestamp\":\"") {
        return Some(rest.get(..10).expect("a JSON line's date").to_string());
    }
    if line.as_bytes().first().is_some_and(u8::is_ascii_digit) && line.get(4..5) == Some("-") {
        return Some(line.get(..10).expect("a syslog line's date").to_string());
    }
    let secs: f64 = line
        .split('\t')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a line of unknown shape: {line}"));
    let ts = lateral::model::event::Timestamp::from_parts(secs.floor() as i64, 0);
    Some(ts.to_rfc3339().get(..10).expect("a date").to_string())
}

/// Splits `file` into `out/DAY/NAME`; header lines go to every day's file.
fn split_by_day(file: &Path, out: &Path, days: &mut BTreeMap<String, ()>) {
    let text = std::fs::read_to_string(file).expect("read a generated file");
    let name = file.file_name().expect("a file name");
    let mut headers = Vec::new();
    let mut by_day: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        match day_of(line) {
            None => headers.push(line),
            Some(d) => by_day.entry(d).or_default().push(line),
        }
    }
    for (day, lines) in by_day {
        let dir = out.join(&day);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut body: Vec<&str> = headers.clone();
        body.extend(lines);
        std::fs::write(dir.join(name), body.join("\n") + "\n").expect("write a day's file");
        days.insert(day, ());
    }
}

#[test]
fn spark_local_mode_gives_the_single_process_alerts() {
    if !succeeded(Command::new("java").arg("-version")) {
        unavailable("no Java runtime (apt-get install default-jre-headless)");
        return;
    }
    let python = match pyspark_python() {
        Ok(p) => p,
        Err(why) => {
            unavailable(&why);
            return;
        }
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    lateral(
        root,
        &[
            "-q",
            "gen",
            "--scenario",
            "diet",
            "--hosts",
            "20",
            "--days",
            "4",
            "--seed",
            "7",
            "--zeek",
            "-o",
            "gen",
        ],
    );
    let split = root.join("split");
    let mut days = BTreeMap::new();
    let mut files = vec![root.join("gen/zeek/conn.log")];
    let mut logs: Vec<_> = std::fs::read_dir(root.join("gen/logs"))
        .expect("logs")
        .map(|e| e.expect("entry").path())
        .collect();
    logs.sort();
    files.extend(logs);
    for f in &files {
        split_by_day(f, &split, &mut days);
    }
    let days: Vec<String> = days.into_keys().collect();
    assert!(days.len() >= 4, "{days:?}");
    for (i, d) in days.iter().enumerate() {
        let to = root.join(if i < 2 { "learn" } else { "today" });
        std::fs::create_dir_all(&to).expect("mkdir");
        std::fs::rename(split.join(d), to.join(d)).expect("move a day");
    }

    // One process over everything.
    lateral(
        root,
        &["-q", "baseline", "build", "-o", "single.lat", "learn"],
    );
    lateral(
        root,
        &[
            "-q",
            "analyze",
            "--baseline",
            "single.lat",
            "--json",
            "single.jsonl",
            "today",
        ],
    );
    let single = std::fs::read(root.join("single.jsonl")).expect("single alerts");
    assert!(
        single.iter().filter(|b| **b == b'\n').count() >= 1,
        "the judged days hold the scenario's alerts"
    );

    // The Spark job, three partitions on two local cores.
    let job = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/lateral_spark.py");
    let out = Command::new(&python)
        .current_dir(root)
        .env("PYSPARK_PYTHON", &python)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .arg(&job)
        .args(["--master", "local[2]", "--partitions", "3", "--lateral"])
        .arg(env!("CARGO_BIN_EXE_lateral"))
        .args(["--learn", "learn", "--today", "today", "--out", "out"])
        .output()
        .expect("the Spark job runs");
    assert!(
        out.status.success(),
        "spark job: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("3 partitions"), "{said}");
    let spark = std::fs::read(root.join("out/alerts.jsonl")).expect("the job's alerts");
    assert!(
        spark == single,
        "the Spark job's alerts differ from the single run's:\n{}\n---\n{}",
        String::from_utf8_lossy(&spark),
        String::from_utf8_lossy(&single)
    );
    assert_eq!(
        std::fs::read(root.join("out/baseline.lat")).expect("the job's baseline"),
        std::fs::read(root.join("single.lat")).expect("the single baseline"),
        "the merged baseline differs from the single build"
    );
    let html = std::fs::read_to_string(root.join("out/report.html")).expect("the HTML report");
    assert!(html.contains("lateral-data"), "an HTML report");
}
