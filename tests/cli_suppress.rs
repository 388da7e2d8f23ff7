//! `[[suppress]]` entries through the real binary on the shipped chamber
//! network (`testdata/diet`): what an entry matches leaves the alerts and
//! the incidents, is counted in the report with its reason, listed with
//! `--show-suppressed`, and an entry without a reason is refused.

use std::process::{Command, Output};

mod common;

fn lateral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("binary runs")
}

fn alerts(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn beacons_from(alerts: &[serde_json::Value], name: &str) -> usize {
    alerts
        .iter()
        .filter(|a| a["rule"]["id"] == "lateral.beaconing" && a["source"]["domain"] == name)
        .count()
}

#[test]
fn suppressed_alerts_leave_the_output_and_are_counted_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lateral.toml");
    std::fs::write(
        &config,
        "[[suppress]]\nreason = \"licence server polling, CHG-1234\"\nrule = \"lateral.beacon*\"\nsource = \"WS-011\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let plain = lateral(&["analyze", "-q", "testdata/diet", "--json", "-"]);
    assert_eq!(plain.status.code(), Some(0));
    let before = alerts(&plain);
    assert!(
        beacons_from(&before, "ws-011") > 0,
        "the fixture beacons from ws-011"
    );

    let out = lateral(&[
        "analyze",
        "-q",
        "testdata/diet",
        "--config",
        config,
        "--json",
        "-",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = alerts(&out);
    let gone = beacons_from(&before, "ws-011");
    assert_eq!(beacons_from(&after, "ws-011"), 0);
    assert_eq!(after.len(), before.len() - gone, "only ws-011's beacons go");
    // With --json -, the report is on standard error.
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report.contains(&format!(
            "suppressed: {gone} alert{} by [[suppress]] entries (--show-suppressed lists them)",
            if gone == 1 { "" } else { "s" }
        )),
        "{report}"
    );
    assert!(report.contains("entry 1: "), "{report}");
    assert!(
        report.contains("licence server polling, CHG-1234"),
        "{report}"
    );

    let listed = lateral(&[
        "analyze",
        "-q",
        "testdata/diet",
        "--config",
        config,
        "--show-suppressed",
    ]);
    let text = String::from_utf8_lossy(&listed.stdout);
    let lines = text
        .lines()
        .filter(|l| l.contains("Beaconing to an external host") && l.ends_with("[entry 1]"))
        .count();
    assert_eq!(lines, gone, "{text}");
}

#[test]
fn an_entry_without_a_reason_or_with_a_bad_window_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (body, says) in [
        (
            "[[suppress]]\nrule = \"lateral.*\"\n",
            "`reason` is required",
        ),
        (
            "[[suppress]]\nreason = \"x\"\nfrom = \"yesterday\"\n",
            "is not an RFC 3339 time",
        ),
        (
            "[[suppress]]\nreason = \"x\"\nrole = \"wizard\"\n",
            "is not a role",
        ),
    ] {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, body).unwrap();
        let out = lateral(&[
            "analyze",
            "-q",
            "testdata/diet",
            "--config",
            config.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("[[suppress]] entry 1") && err.contains(says),
            "{err}"
        );
    }
}
