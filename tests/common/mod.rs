//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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
