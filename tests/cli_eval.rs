//! Black-box tests of `lateral eval`: a truth file and alerts the test
//! writes, scored by the real binary.

use std::process::Command;

const TRUTH: &str = r#"{"scenario":"spray","seed":3,"hosts":50,"days":2,
 "start":"2020-01-01T00:00:00Z","end":"2020-01-03T00:00:00Z",
 "steps":[
  {"id":"spray-1","kind":"credential","technique":"T1110.003","source":"10.0.0.66","destination":"10.0.0.5",
   "first":"2020-01-02T10:00:00Z","last":"2020-01-02T10:10:00Z"},
  {"id":"spray-2","kind":"lateral","technique":"T1021.001","source":"10.0.0.66","destination":"10.0.0.20",
   "port":3389,"first":"2020-01-02T10:20:00Z","last":"2020-01-02T10:40:00Z"}],
 "benign_novelties":[]}"#;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn eval_scores_alerts_against_truth() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.json");
    std::fs::write(&truth, TRUTH).unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    std::fs::write(
        &alerts,
        concat!(
            r#"{"@timestamp":"2020-01-02T10:05:00Z","event":{"kind":"alert","risk_score":70},"source":{"ip":"10.0.0.66"},"destination":{"ip":"10.0.0.5"},"lateral":{"alert":{"id":"a"},"incident":{"id":"I1"}}}"#,
            "\n",
            r#"{"@timestamp":"2020-01-01T03:00:00Z","event":{"kind":"alert","risk_score":20},"source":{"ip":"10.0.0.7"},"destination":{"ip":"10.0.0.8"},"lateral":{"alert":{"id":"b"},"incident":{"id":"I2"}}}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = run(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        "--json",
        alerts.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scenario"], "spray");
    assert_eq!(v["by_kind"]["credential"]["detected"], 1);
    assert_eq!(v["by_kind"]["lateral"]["detected"], 0);
    assert_eq!(v["missed"][0], "spray-2");
    assert_eq!(v["recall"], 0.5);
    assert_eq!(v["lateral_recall"], 0.0);
    assert_eq!(v["true_incidents"], 1);
    assert_eq!(v["false_incidents"], 1);
    assert_eq!(v["false_incidents_per_1000_host_days"], 10.0);
    assert_eq!(v["best_true_incident_rank"], 1);
    assert_eq!(v["time_to_first_alert_secs"], 300.0);

    // The table names the same facts for a person.
    let out = run(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        alerts.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("missed steps: spray-2"), "{text}");
    assert!(text.contains("10.00 per 1,000 host-days"), "{text}");
}

#[test]
fn broken_inputs_are_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.json");
    std::fs::write(&truth, "{\"steps\": 7}").unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    std::fs::write(&alerts, "garbage\n").unwrap();
    let out = run(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        alerts.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a list"));

    std::fs::write(&truth, TRUTH).unwrap();
    let out = run(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        alerts.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unreadable alert line makes the score partial"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("alerts.jsonl:1: skipped"));
}

#[test]
fn a_scenario_directory_reads_clean_with_its_truth_file_beside_the_data() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/diet");
    let out = run(&["events", "--stats", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // Left out of the walk by its name, with a note; not an input.
    let note = err
        .lines()
        .find(|l| l.contains("truth.json"))
        .expect("truth.json named in a note");
    assert!(
        note.contains("note:") && note.contains("ground truth"),
        "{note}"
    );
    assert!(!err.lines().any(|l| l.contains("PARTIAL")), "{err}");
    assert!(!out.stdout.is_empty());
}
