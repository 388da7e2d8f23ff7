//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod kerberos_der;
pub mod sshd_flood;
pub mod win_flood;

/// The shared public corpus (`../shared/corpus`, or `$LATERAL_CORPUS`), if present.
/// When absent, prints a clear SKIPPED line so the run says what it did not check.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LATERAL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("expected.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: corpus not found at {} (set LATERAL_CORPUS)",
            dir.display()
        );
        None
    }
}

/// The corpus facts file.
pub fn expected(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json readable");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// The crate root: golden inputs are named relative to it so that the file
/// names in the outputs (evidence, `log.file.path`) do not depend on where
/// the checkout lives.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `binary` (the test's `env!("CARGO_BIN_EXE_lateral")`) in `cwd`
/// with `args` and insists on a clean exit; its output.
pub fn run_ok(binary: &str, cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(binary)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "lateral {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir`, relative to it, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Asserts that a run (`args`) gave the alerts (JSON Lines) and report of
/// the first run it is compared with, `want`, byte for byte.
pub fn assert_same_output(args: &[&str], want: (&[u8], &[u8]), got: (&[u8], &[u8])) {
    assert!(
        want.0 == got.0,
        "{args:?}: alerts differ ({} vs {} bytes)",
        want.0.len(),
        got.0.len()
    );
    assert!(
        want.1 == got.1,
        "{args:?}: report differs:\n{}\n---\n{}",
        String::from_utf8_lossy(want.1),
        String::from_utf8_lossy(got.1)
    );
}

/// True when `LATERAL_BLESS` is set: golden comparisons rewrite the files.
pub fn blessing() -> bool {
    std::env::var_os("LATERAL_BLESS").is_some()
}

/// Where a golden file named `name` lives (`tests/golden/NAME`).
pub fn golden_path(name: &str) -> PathBuf {
    root().join("tests/golden").join(name)
}

/// Lines shown on each side of a golden mismatch, after the first differing one.
const DIFF_LINES: usize = 3;

/// Characters of a line shown around a difference.
const DIFF_WIDTH: usize = 160;

/// `line`'s characters from `from` on, at most `DIFF_WIDTH` of them, with
/// `…` marking what was cut.
fn window(line: &str, from: usize) -> String {
    let n = line.chars().count();
    let body: String = line.chars().skip(from).take(DIFF_WIDTH).collect();
    let head = if from > 0 { "…" } else { "" };
    let tail = if from + DIFF_WIDTH < n { "…" } else { "" };
    format!("{head}{body}{tail}")
}

/// A readable account of where two texts part: the line and column of the
/// first difference, both versions of that line around the column, the few
/// lines after it on each side, and both line counts. `None` when the texts
/// are equal.
pub fn first_difference(want: &str, got: &str) -> Option<String> {
    if want == got {
        return None;
    }
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let at = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    // The column where the first differing lines part, and a window on it.
    let column = match (w.get(at), g.get(at)) {
        (Some(a), Some(b)) => a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count(),
        _ => 0,
    };
    let from = column.saturating_sub(DIFF_WIDTH / 4);
    let mut out = format!(
        "first difference at line {}, column {} (want {} lines, got {} lines)\n",
        at + 1,
        column + 1,
        w.len(),
        g.len()
    );
    for (label, side) in [("want", &w), ("got ", &g)] {
        for (i, line) in side.iter().enumerate().skip(at).take(1 + DIFF_LINES) {
            let shown = if i == at {
                window(line, from)
            } else {
                window(line, 0)
            };
            out.push_str(&format!("  {label} {:>6}: {shown}\n", i + 1));
        }
        if side.len() <= at {
            out.push_str(&format!("  {label}       : <end of text>\n"));
        }
    }
    if w.len() == g.len() && at == w.len() {
        out.push_str("  (the texts differ only in line endings or a final newline)\n");
    }
    Some(out)
}

/// Compares `got` with the golden file `tests/golden/NAME`, line by line,
/// panicking with the first differing lines; under `LATERAL_BLESS=1` it
/// rewrites the file instead.
pub fn golden(name: &str, got: &str) {
    let path = golden_path(name);
    if blessing() {
        std::fs::write(&path, got).expect("golden file writable");
        eprintln!("blessed {}", path.display());
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with LATERAL_BLESS=1 to create it)",
            path.display()
        )
    });
    if let Some(diff) = first_difference(&want, got) {
        panic!(
            "golden {name} differs: {diff}(LATERAL_BLESS=1 rewrites golden files; review the diff)"
        );
    }
}

/// The flows of a capture that must read clean (no skip of any kind).
pub fn read_clean_flows(path: &std::path::Path) -> Vec<lateral::model::event::Flow> {
    let run = lateral::collect::pipeline::run_flows(
        &[lateral::input::InputPath::File(path.to_path_buf())],
        Vec::new(),
        &lateral::collect::pipeline::FlowRunOptions::default(),
        &std::sync::atomic::AtomicU64::new(0),
    );
    assert!(run.is_clean(), "capture did not read clean");
    for r in &run.inputs {
        assert_eq!(r.diag.total(), 0, "{:?}", r.diag.counts);
    }
    run.flows.to_vec().unwrap()
}

/// The events of a generated directory's `logs/`, which must all read
/// clean, be recognised and hold records.
pub fn read_clean_events(dir: &std::path::Path) -> Vec<lateral::model::event::LogEvent> {
    let (paths, errs) = lateral::input::expand(&[dir.join("logs")]);
    assert!(errs.is_empty());
    let run = lateral::collect::pipeline::run_events(
        &paths,
        Vec::new(),
        &lateral::collect::pipeline::FlowRunOptions::default(),
        &lateral::collect::pipeline::LogOptions::default(),
        &std::sync::atomic::AtomicU64::new(0),
    );
    assert!(run.is_clean(), "logs did not read clean");
    for r in &run.inputs {
        assert_eq!(r.diag.total(), 0, "{}: {:?}", r.name, r.diag.counts);
        assert!(r.records > 0, "{}: empty", r.name);
        assert!(r.format.is_some(), "{}: not recognised", r.name);
    }
    run.events
}

/// Runs `lateral -q flows --zeek-dir DIR` with `extra` flags on `capture`,
/// asserts it succeeded, and returns its output (`--stats` goes to stderr).
pub fn flows_zeek_dir(
    capture: &std::path::Path,
    dir: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "flows"])
        .args(extra)
        .arg("--zeek-dir")
        .arg(dir)
        .arg(capture)
        .output()
        .expect("run lateral");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
