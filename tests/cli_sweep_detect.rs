//! Black-box tests of `lateral sweep` as a detector through the real
//! binary: a baseline is built from the learning period of a generated
//! scenario (`lateral gen`), the rest is swept against it, and the incident
//! report, the alert JSON (with incident score and rank), `--seen`,
//! `--new-only`, determinism across thread counts and exit statuses are
//! checked.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .arg("--quiet")
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A generated scenario with a baseline built from its learning period.
struct Scenario {
    _dir: tempfile::TempDir,
    data: PathBuf,
    baseline: PathBuf,
    truth: Value,
    /// Where learning ends and the sweep starts.
    cut: String,
}

impl Scenario {
    fn path(&self, name: &str) -> PathBuf {
        self._dir.path().join(name)
    }

    /// Sweeps the judged part with extra flags.
    fn sweep(&self, extra: &[&str]) -> Output {
        self.sweep_threads("2", extra)
    }

    fn sweep_threads(&self, threads: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "--threads",
            threads,
            "sweep",
            "--baseline",
            self.baseline.to_str().unwrap(),
            "--since",
            &self.cut,
            self.data.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    }
}

/// Generates `scenario` and builds a baseline up to the first attack step
/// (or 60% of the span when there is none).
fn scenario(name: &str) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(name);
    let out = run(&[
        "gen",
        "--scenario",
        name,
        "--hosts",
        "30",
        "--days",
        "2",
        "--seed",
        "1",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let first_step = truth["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["first"].as_str())
        .min()
        .map(str::to_owned);
    let cut = first_step.unwrap_or_else(|| {
        let t = |k: &str| {
            let s = truth[k].as_str().unwrap();
            lateral::model::event::Timestamp::parse_rfc3339(s).unwrap()
        };
        let (a, z) = (t("start"), t("end"));
        lateral::model::event::Timestamp(a.0 + (z.0 - a.0) * 6 / 10).to_rfc3339()
    });
    let baseline = dir.path().join("b.lat");
    let out = run(&[
        "baseline",
        "build",
        data.to_str().unwrap(),
        "--until",
        &cut,
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    Scenario {
        _dir: dir,
        data,
        baseline,
        truth,
        cut,
    }
}

fn diet() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| scenario("diet"))
}

/// The first incident line (`#1 ID  score N  severity ...`) of a report.
fn top_line(report: &str) -> &str {
    report
        .lines()
        .find(|l| l.starts_with("#1 "))
        .expect("an incident in the report")
}

#[test]
fn diet_attack_is_the_top_incident_of_the_sweep_with_its_path() {
    let s = diet();
    let alerts_path = s.path("top-alerts.jsonl");
    let nov_path = s.path("top-novelties.jsonl");
    let out = s.sweep(&[
        "--json",
        alerts_path.to_str().unwrap(),
        "--novelties",
        nov_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(report.starts_with("lateral sweep: "), "{report}");
    // The incident report comes first, then the novelty report.
    let top = top_line(&report);
    let novelty_at = report.find("New hosts: ").expect("the novelty report");
    assert!(report.find(top).unwrap() < novelty_at);
    assert!(top.contains("critical"), "{top}");
    let top_id = top.split_whitespace().nth(1).unwrap();
    let top_score: u64 = top.split_whitespace().nth(3).unwrap().parse().unwrap();
    // Its path: the three compromised workstations, then the chamber
    // server, then the hosts reached from it (the domain controller among them).
    let path = report
        .lines()
        .skip_while(|l| *l != top)
        .find(|l| l.trim_start().starts_with("path:"))
        .expect("a path line");
    let layers: Vec<&str> = path.split("  ->  ").collect();
    assert!(layers.len() >= 3, "{path}");
    for ws in ["ws-008", "ws-011", "ws-016"] {
        assert!(layers[0].contains(ws), "{path}");
    }
    assert!(layers[1].contains("srv-chamber"), "{path}");
    assert!(layers[2].contains("dc01"), "{path}");

    let alerts = json_lines(&std::fs::read(&alerts_path).unwrap());
    assert!(!alerts.is_empty());
    for a in &alerts {
        assert_eq!(a["event"]["kind"], "alert");
        let inc = &a["lateral"]["incident"];
        assert!(inc["score"].as_u64().unwrap() <= 100);
        assert!(inc["rank"].as_u64().unwrap() >= 1);
        // No --seen: no seen_before field.
        assert!(a["lateral"]["alert"].get("seen_before").is_none());
        if inc["rank"] == 1 {
            assert_eq!(inc["id"], top_id);
            assert_eq!(inc["score"], top_score);
        } else {
            assert!(inc["score"].as_u64().unwrap() <= top_score);
        }
    }
    // Every lateral and execution step is an alert of the top incident
    // with the step's source and destination.
    let in_top: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["lateral"]["incident"]["id"] == top_id)
        .collect();
    let mut steps = 0;
    for step in s.truth["steps"].as_array().unwrap() {
        if !matches!(step["kind"].as_str(), Some("lateral" | "execution")) {
            continue;
        }
        steps += 1;
        assert!(
            in_top.iter().any(|a| a["source"]["ip"] == step["source"]
                && a["destination"]["ip"] == step["destination"]),
            "step {} not in the top incident\n{report}",
            step["id"]
        );
    }
    assert!(steps >= 5);
    // Nothing before --since was judged: every alert starts at or after it.
    let cut = lateral::model::event::Timestamp::parse_rfc3339(&s.cut).unwrap();
    for a in &alerts {
        let t =
            lateral::model::event::Timestamp::parse_rfc3339(a["event"]["start"].as_str().unwrap())
                .unwrap();
        assert!(t >= cut, "{}", a["message"]);
    }
    // The novelties are still there, as ECS events.
    let novelties = json_lines(&std::fs::read(&nov_path).unwrap());
    assert!(!novelties.is_empty());
    assert!(novelties.iter().all(|n| n["event"]["kind"] == "event"));
    assert!(novelties.iter().any(|n| n["event"]["action"] == "new-edge"
        && n["source"]["domain"] == "ws-008"
        && n["destination"]["domain"] == "srv-chamber"));

    // The scorer ranks the attack's incident first by the combined score.
    let out = run(&[
        "eval",
        "--truth",
        s.data.join("truth.json").to_str().unwrap(),
        alerts_path.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let score: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(score["best_true_incident_rank"], 1, "{score}");
    assert_eq!(score["incidents"][0]["id"], top_id);
    assert_eq!(score["incidents"][0]["risk_score"], top_score);
}

#[test]
fn a_second_sweep_with_seen_reports_the_same_alerts_as_already_reported() {
    let s = diet();
    let first = s.sweep(&["--json", "-"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // With --json -, the alerts are on stdout and the report on stderr.
    let report1 = stderr(&first);
    assert!(report1.starts_with("lateral sweep: "), "{report1}");
    let alerts1 = json_lines(&first.stdout);
    assert!(!alerts1.is_empty());
    let seen = s.path("yesterday.jsonl");
    std::fs::write(&seen, &first.stdout).unwrap();

    let second = s.sweep(&["--json", "-", "--seen", seen.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let alerts2 = json_lines(&second.stdout);
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|a| a["lateral"]["alert"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // The same alerts (stable ids), each marked as seen before.
    assert_eq!(ids(&alerts1), ids(&alerts2));
    assert!(
        alerts2
            .iter()
            .all(|a| a["lateral"]["alert"]["seen_before"] == true)
    );
    let report2 = stderr(&second);
    let n = alerts2.len();
    assert!(
        report2.contains(&format!("alerts (0 new, {n} already reported)")),
        "{report2}"
    );
    assert!(report2.contains("Already reported: "), "{report2}");
    // No incident is shown in full: each is one line under "Already reported".
    assert!(!report2.lines().any(|l| l.starts_with("#1 ")), "{report2}");
    let top = top_line(&report1);
    assert!(report2.contains(&format!("  {top}")), "{report2}");

    // --new-only leaves them all out.
    let quiet = s.sweep(&[
        "--json",
        "-",
        "--seen",
        seen.to_str().unwrap(),
        "--new-only",
    ]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert!(quiet.stdout.is_empty(), "{}", stdout(&quiet));
    assert!(
        stderr(&quiet).contains("already reported, not shown (--new-only)"),
        "{}",
        stderr(&quiet)
    );

    // Half of yesterday's alerts: the others are new, and only they are
    // written with --new-only.
    let lines1 = stdout(&first);
    let half: Vec<&str> = lines1.lines().step_by(2).collect();
    let partial = s.path("half.jsonl");
    std::fs::write(&partial, half.join("\n")).unwrap();
    let out = s.sweep(&[
        "--json",
        "-",
        "--seen",
        partial.to_str().unwrap(),
        "--new-only",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fresh = json_lines(&out.stdout);
    assert_eq!(fresh.len(), n - half.len());
    assert!(
        fresh
            .iter()
            .all(|a| a["lateral"]["alert"]["seen_before"] == false)
    );
    let fresh_ids = ids(&fresh);
    let expected: Vec<String> = ids(&alerts1).into_iter().skip(1).step_by(2).collect();
    assert_eq!(fresh_ids, expected);
}

#[test]
fn sweep_output_is_identical_whatever_the_thread_count() {
    let s = diet();
    let one = s.sweep_threads("1", &["--json", "-", "--novelties", "-"]);
    let two = s.sweep_threads("2", &["--json", "-", "--novelties", "-"]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stderr, two.stderr);
    // Both machine outputs in one stream: the alerts, then the novelties.
    let docs = json_lines(&one.stdout);
    let kinds: Vec<&str> = docs
        .iter()
        .map(|d| d["event"]["kind"].as_str().unwrap())
        .collect();
    let first_event = kinds.iter().position(|k| *k == "event").unwrap();
    assert!(first_event > 0);
    assert!(kinds[..first_event].iter().all(|k| *k == "alert"));
    assert!(kinds[first_event..].iter().all(|k| *k == "event"));
}

#[test]
fn quiet_scenario_sweep_gives_no_incident_above_medium() {
    let s = scenario("quiet");
    assert!(s.truth["steps"].as_array().unwrap().is_empty());
    let out = s.sweep(&["--json", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts = json_lines(&out.stdout);
    for a in &alerts {
        let score = a["lateral"]["incident"]["score"].as_u64().unwrap();
        assert!(score < 50, "{score}: {}", a["message"]);
    }
    // The bound above holds because the detectors judge the novelties low,
    // not because they are silent: the deployment server's push over SMB
    // (a benign novelty of the scenario) is seen.
    let push = s.truth["benign_novelties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["port"].as_u64() == Some(445) && n["destination"].is_null())
        .expect("the quiet scenario has an SMB push");
    assert!(
        alerts.iter().any(|a| a["source"]["ip"] == push["source"]
            && ["lateral.fan-out", "lateral.new-admin-edge"]
                .contains(&a["rule"]["id"].as_str().unwrap())),
        "the push from {} is not seen: {:#?}",
        push["source"],
        alerts.iter().map(|a| &a["message"]).collect::<Vec<_>>()
    );
    let report = stderr(&out);
    for l in report.lines().filter(|l| l.starts_with('#')) {
        assert!(l.contains(" low ") || l.contains(" medium "), "{l}");
    }
}

#[test]
fn sweep_exit_statuses() {
    let s = diet();
    let dir = tempfile::tempdir().unwrap();
    // A configuration that does not parse is a usage error (2), before any input is read.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[detect\nnope").unwrap();
    let out = s.sweep(&["--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));
    // --new-only needs --seen.
    let out = s.sweep(&["--new-only"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A --seen file that cannot be read is fatal (1), and the baseline is
    // not updated.
    let before = std::fs::read(&s.baseline).unwrap();
    let missing = dir.path().join("no-such.jsonl");
    let out = s.sweep(&["--seen", missing.to_str().unwrap(), "--update"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such.jsonl"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&s.baseline).unwrap(), before);
    // Lines of a --seen file that are not alerts are skipped and counted.
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "not json\n{\"event\":{\"kind\":\"alert\"}}\n").unwrap();
    let out = s.sweep(&["--seen", junk.to_str().unwrap(), "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 lines skipped: not a JSON document"),
        "{}",
        stderr(&out)
    );
    // The configuration is used: with beaconing allowlisted, the beaconing
    // alerts are gone and the others stay.
    let allow = dir.path().join("allow.toml");
    std::fs::write(&allow, "[allowlist]\nrules = [\"lateral.beaconing\"]\n").unwrap();
    let with = s.sweep(&["--json", "-", "--config", allow.to_str().unwrap()]);
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    let without = json_lines(&s.sweep(&["--json", "-"]).stdout);
    let with = json_lines(&with.stdout);
    let beacons = |v: &[Value]| {
        v.iter()
            .filter(|a| a["rule"]["id"] == "lateral.beaconing")
            .count()
    };
    assert!(beacons(&without) >= 3);
    assert_eq!(beacons(&with), 0);
    assert_eq!(with.len(), without.len() - beacons(&without));
}

/// Four days of the 30-host chamber network: the workstations beacon from
/// the third day on and move laterally on the fourth.
struct FourDays {
    dir: tempfile::TempDir,
    data: PathBuf,
    truth: Value,
    start: lateral::model::event::Timestamp,
}

fn four_days() -> FourDays {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("diet");
    let out = run(&[
        "gen",
        "--scenario",
        "diet",
        "--hosts",
        "30",
        "--days",
        "4",
        "--seed",
        "3",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let start =
        lateral::model::event::Timestamp::parse_rfc3339(truth["start"].as_str().unwrap()).unwrap();
    FourDays {
        dir,
        data,
        truth,
        start,
    }
}

#[test]
fn activity_that_goes_on_the_next_night_is_already_reported() {
    // Four days of the chamber network: the workstations start beaconing
    // on the third day and go on through the fourth. Night one sweeps from
    // the third day on; night two sweeps the fourth with night one's alerts
    // as --seen. The beacons of night two carry new alert ids (another
    // day) but the same activity ids, so they are already reported.
    let FourDays {
        dir, data, start, ..
    } = four_days();
    let day = |n: i64| lateral::model::event::Timestamp(start.0 + n * 86_400_000_000_000);
    let baseline = dir.path().join("b.lat");
    let out = run(&[
        "baseline",
        "build",
        data.to_str().unwrap(),
        "--until",
        &day(2).to_rfc3339(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sweep = |since: i64, extra: &[&str]| {
        let since = day(since).to_rfc3339();
        let mut args = vec![
            "sweep",
            "--baseline",
            baseline.to_str().unwrap(),
            "--since",
            &since,
            data.to_str().unwrap(),
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json_lines(&out.stdout)
    };
    let night1 = sweep(2, &[]);
    let seen = dir.path().join("night1.jsonl");
    let lines: Vec<String> = night1.iter().map(Value::to_string).collect();
    std::fs::write(&seen, lines.join("\n")).unwrap();
    let night2 = sweep(3, &["--seen", seen.to_str().unwrap()]);
    let alert = |a: &Value, k: &str| a["lateral"]["alert"][k].as_str().unwrap().to_owned();
    let ids1: Vec<String> = night1.iter().map(|a| alert(a, "id")).collect();
    let beacons: Vec<&Value> = night2
        .iter()
        .filter(|a| a["rule"]["id"] == "lateral.beaconing")
        .collect();
    assert!(!beacons.is_empty(), "no beaconing on night two");
    for b in beacons {
        assert!(alert(b, "activity_id").starts_with("LC-"));
        assert!(!ids1.contains(&alert(b, "id")), "a new day gives a new id");
        assert_eq!(
            b["lateral"]["alert"]["seen_before"], true,
            "ongoing beaconing from {} is not muted",
            b["source"]
        );
    }
}

#[test]
fn an_update_keeps_the_attack_out_of_the_baseline_unless_asked() {
    // Night one sweeps the third and fourth days of the chamber network
    // with --update; night two sweeps the fourth day against the updated
    // baseline. The C2 server the workstations beacon to must not have
    // become "reached by 3 internal hosts in the baseline" overnight, as it
    // does with --fold-alerted.
    let FourDays {
        dir,
        data,
        truth,
        start,
    } = four_days();
    let day = |n: i64| lateral::model::event::Timestamp(start.0 + n * 86_400_000_000_000);
    let c2 = truth["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "beacon")
        .and_then(|s| s["destination"].as_str())
        .expect("the scenario beacons")
        .to_owned();
    let first = dir.path().join("first.lat");
    let out = run(&[
        "baseline",
        "build",
        data.to_str().unwrap(),
        "--until",
        &day(2).to_rfc3339(),
        "-o",
        first.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let two_nights = |fold: bool| -> (String, Vec<Value>) {
        let base = dir
            .path()
            .join(if fold { "folded.lat" } else { "kept.lat" });
        std::fs::copy(&first, &base).unwrap();
        let since1 = day(2).to_rfc3339();
        let mut args = vec![
            "sweep",
            "--baseline",
            base.to_str().unwrap(),
            "--since",
            &since1,
            data.to_str().unwrap(),
            "--update",
        ];
        if fold {
            args.push("--fold-alerted");
        }
        let night1 = run(&args);
        assert_eq!(night1.status.code(), Some(0), "{}", stderr(&night1));
        let since2 = day(3).to_rfc3339();
        let night2 = run(&[
            "sweep",
            "--baseline",
            base.to_str().unwrap(),
            "--since",
            &since2,
            data.to_str().unwrap(),
            "--json",
            "-",
        ]);
        assert_eq!(night2.status.code(), Some(0), "{}", stderr(&night2));
        (stdout(&night1), json_lines(&night2.stdout))
    };
    let beacon_messages = |alerts: &[Value]| -> Vec<String> {
        alerts
            .iter()
            .filter(|a| {
                a["rule"]["id"] == "lateral.beaconing" && a["destination"]["ip"] == c2.as_str()
            })
            .map(|a| a["message"].as_str().unwrap().to_owned())
            .collect()
    };

    let (report, kept) = two_nights(false);
    assert!(
        report.contains("was kept out of the baseline; --fold-alerted folds it in"),
        "{report}"
    );
    let beacons = beacon_messages(&kept);
    assert!(!beacons.is_empty(), "the C2 is not reported on night two");
    for m in &beacons {
        assert!(
            m.contains("0 internal hosts reached it in the baseline"),
            "{m}"
        );
    }

    let (report, folded) = two_nights(true);
    assert!(!report.contains("kept out of the baseline"), "{report}");
    assert!(
        beacon_messages(&folded)
            .iter()
            .all(|m| !m.contains("0 internal hosts reached it")),
        "--fold-alerted learned nothing"
    );
    // What was kept out is what night two still judges.
    assert!(kept.len() > folded.len());
}
