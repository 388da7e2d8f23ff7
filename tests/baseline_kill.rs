//! Killing a baseline write at any moment leaves the old file or the new
//! one, complete: never a mix, never a corrupt file.
//!
//! The test re-runs this test binary as a child process (`--ignored --exact
//! kill_child_writer`), which saves a large baseline over and over and says
//! on stdout which generations it finished; the parent SIGKILLs it at
//! seeded random moments and then loads the file.

use lateral::baseline::file;
use serde::{Deserialize, Serialize};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One generation's baseline: its number and content derived from it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Generation {
    generation: u64,
    data: Vec<u32>,
}

const WORDS: usize = 400_000;

fn generation(g: u64) -> Generation {
    let mut x = g.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data = (0..WORDS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        })
        .collect();
    Generation {
        generation: g,
        data,
    }
}

/// Not a test on its own: the writer process the kill test starts.
#[test]
#[ignore = "run by baseline_survives_kill_at_any_moment as its child process"]
fn kill_child_writer() {
    let Some(path) = std::env::var_os("LATERAL_KILL_TEST_PATH") else {
        return;
    };
    let start: u64 = std::env::var("LATERAL_KILL_TEST_START")
        .unwrap()
        .parse()
        .unwrap();
    let path = PathBuf::from(path);
    let mut out = std::io::stdout();
    for g in start.. {
        file::save(&path, &generation(g)).unwrap();
        use std::io::Write as _;
        writeln!(out, "saved {g}").unwrap();
        out.flush().unwrap();
    }
}

fn temps_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".b.lat.tmp-")
        })
        .count()
}

#[test]
fn baseline_survives_kill_at_any_moment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.lat");
    file::save(&path, &generation(0)).unwrap();

    // How long one save takes here, so kills spread over whole writes.
    let t = Instant::now();
    file::save(&path, &generation(0)).unwrap();
    let save_ms = (t.elapsed().as_millis() as u64).max(5);

    let exe = std::env::current_exe().unwrap();
    let mut rng: u64 = 0x1A7E_BA5E;
    let mut current = 0u64;
    let mut killed_mid_write = 0;
    const ROUNDS: usize = 40;
    for round in 0..ROUNDS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Child start-up plus zero to three saves' worth of time.
        let delay = Duration::from_millis(5 + rng % (3 * save_ms + 1));
        let mut child = Command::new(&exe)
            .args(["--ignored", "--exact", "kill_child_writer", "--nocapture"])
            .env("LATERAL_KILL_TEST_PATH", &path)
            .env("LATERAL_KILL_TEST_START", (current + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let mut said = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut said)
            .unwrap();
        let finished = said
            .lines()
            .filter_map(|l| l.strip_prefix("saved "))
            .filter_map(|n| n.parse::<u64>().ok())
            .max()
            .unwrap_or(current);
        if temps_in(dir.path()) > 0 {
            killed_mid_write += 1;
        }
        let on_disk: Generation = file::load(&path)
            .unwrap_or_else(|e| panic!("round {round}: the baseline does not load: {e}"));
        // The last finished generation, or the one being written whose
        // rename happened before the kill: nothing else.
        assert!(
            on_disk.generation == finished || on_disk.generation == finished + 1,
            "round {round}: generation {} on disk, last finished {finished}",
            on_disk.generation
        );
        assert_eq!(on_disk, generation(on_disk.generation), "round {round}");
        current = on_disk.generation;
    }
    eprintln!("one save {save_ms} ms; {killed_mid_write} of {ROUNDS} kills landed during a write");
    assert!(
        killed_mid_write >= 5,
        "only {killed_mid_write} of {ROUNDS} kills landed during a write: the test did not test"
    );
    // The next save removes what killed writers left.
    file::save(&path, &generation(current + 1)).unwrap();
    assert_eq!(temps_in(dir.path()), 0);
    let last: Generation = file::load(&path).unwrap();
    assert_eq!(last.generation, current + 1);
}
