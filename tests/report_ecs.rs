//! Every field lateral writes in its ECS outputs (`analyze --json` alerts,
//! `events` for captures and logs) checked against the Elastic Common
//! Schema field reference, read as data: the `ecs_flat` table of ECS 8.11
//! (name, type, level, normalisation and allowed values of every field).
//!
//! The reference is found, in order: at `$LATERAL_ECS_FLAT` (`ecs_flat.yml`
//! or the same as JSON); in this build's test cache; from the ECS
//! repository's `generated/ecs/ecs_flat.yml` at tag v8.11.0 (curl, read
//! with python3's yaml); from the npm package `@elastic/ecs@8.11.5`, which
//! ships the same table as `generated/ecs_flat.js` (npm pack, read with
//! node). Without any of them the test prints SKIPPED, except under
//! `CI=true`, where it fails.
//!
//! Not checked against ECS: `lateral.*` (our own fields), `labels.*`
//! (ECS's free-form keyword map), and the two namespaces of Elastic's own
//! integrations that lateral reuses rather than inventing names: `winlog.*`
//! (Winlogbeat's Windows event fields) and `zeek.*` (the Zeek
//! integration's conn.log fields). Two fields say where a raw record is and
//! are not ECS either: `log.offset` (Filebeat's byte offset of a record)
//! and `log.file.line` (its counterpart for line-oriented text); ECS has no
//! field for a record's place in its file, and `event.id` carries both.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// Where the ECS YAML of the pinned version lives.
const ECS_YAML_URL: &str =
    "https://raw.githubusercontent.com/elastic/ecs/v8.11.0/generated/ecs/ecs_flat.yml";

/// The npm package that ships the same table.
const ECS_NPM: &str = "@elastic/ecs@8.11.5";

/// Prefixes not validated (see the module documentation).
const NOT_ECS: [&str; 4] = ["lateral.", "labels.", "winlog.", "zeek."];

/// Single fields not validated (see the module documentation).
const NOT_ECS_FIELDS: [&str; 2] = ["log.offset", "log.file.line"];

/// One field of the reference.
#[derive(Debug)]
struct Field {
    kind: String,
    level: String,
    array: bool,
    allowed: Option<BTreeSet<String>>,
}

fn cache_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ecs_flat-8.11.json")
}

/// Runs a command, returning its standard output when it succeeds.
fn output_of(cmd: &mut Command) -> Option<Vec<u8>> {
    let out = cmd.output().ok()?;
    out.status.success().then_some(out.stdout)
}

fn yaml_to_json(path: &Path) -> Option<Vec<u8>> {
    output_of(
        Command::new("python3")
            .arg("-c")
            .arg("import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)")
            .arg(path),
    )
}

/// The reference as JSON text, from the first place that has it.
fn reference_json() -> Result<Vec<u8>, String> {
    if let Some(p) = std::env::var_os("LATERAL_ECS_FLAT").map(PathBuf::from) {
        let is_json = p.extension().is_some_and(|e| e == "json");
        return if is_json {
            std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
        } else {
            yaml_to_json(&p).ok_or_else(|| format!("{}: not readable as YAML", p.display()))
        };
    }
    if let Ok(b) = std::fs::read(cache_path()) {
        return Ok(b);
    }
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let yml = tmp.path().join("ecs_flat.yml");
    let fetched = Command::new("curl")
        .args(["-sSfL", "--max-time", "30", "-o"])
        .arg(&yml)
        .arg(ECS_YAML_URL)
        .status()
        .is_ok_and(|s| s.success());
    let json = if fetched { yaml_to_json(&yml) } else { None };
    let json = json.or_else(|| {
        let packed = Command::new("timeout")
            .args(["-k", "10", "300", "npm", "pack", "--silent", ECS_NPM])
            .current_dir(tmp.path())
            .output()
            .ok()?;
        let name = String::from_utf8(packed.stdout).ok()?;
        let tgz = tmp.path().join(name.trim());
        let unpacked = Command::new("tar")
            .arg("xzf")
            .arg(&tgz)
            .current_dir(tmp.path())
            .status()
            .ok()?;
        if !unpacked.success() {
            return None;
        }
        let js = tmp.path().join("package/generated/ecs_flat.js");
        output_of(
            Command::new("node")
                .arg("-e")
                .arg("process.stdout.write(JSON.stringify(require(process.argv[1]).EcsFlat))")
                .arg(&js),
        )
    });
    let json = json.ok_or_else(|| {
        format!("could not fetch {ECS_YAML_URL} (curl, python3 yaml) nor {ECS_NPM} (npm, node)")
    })?;
    let _ = std::fs::write(cache_path(), &json);
    Ok(json)
}

/// The reference by flat name, or `None` after a SKIPPED line.
fn reference(test: &str) -> Option<BTreeMap<String, Field>> {
    let json = match reference_json() {
        Ok(j) => j,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: the ECS reference must be fetchable in CI: {e}"
            );
            eprintln!("SKIPPED {test}: {e} (set LATERAL_ECS_FLAT to an ecs_flat.yml)");
            return None;
        }
    };
    let v: Value = serde_json::from_slice(&json).expect("the ECS reference is JSON");
    let map = v.as_object().expect("the ECS reference is a map of fields");
    let mut out = BTreeMap::new();
    for (name, f) in map {
        let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let array = f
            .get("normalize")
            .and_then(Value::as_array)
            .is_some_and(|n| n.iter().any(|x| x == "array"));
        let allowed = f.get("allowed_values").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|x| x.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        });
        out.insert(
            name.clone(),
            Field {
                kind: text("type"),
                level: text("level"),
                array,
                allowed,
            },
        );
    }
    assert!(
        out.len() > 1000 && out.contains_key("threat.technique.subtechnique.id"),
        "the ECS reference looks wrong: {} fields",
        out.len()
    );
    Some(out)
}

/// Every leaf of `doc` as (flat name, value); arrays of objects are walked
/// element by element under the array's name, arrays of scalars are one
/// value.
fn leaves<'a>(prefix: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&name, x, out);
            }
        }
        Value::Array(a) if a.iter().any(Value::is_object) => {
            for x in a {
                leaves(prefix, x, out);
            }
        }
        _ => out.push((prefix.to_string(), v)),
    }
}

/// Why one scalar does not fit an ECS type, if it does not.
fn misfit(kind: &str, v: &Value) -> Option<String> {
    let ok = match kind {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "scaled_float" | "double" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "ip" => v
            .as_str()
            .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "date" => v.as_str().is_some_and(|s| {
            s.len() >= 20 && s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T')
        }),
        "object" | "flattened" | "nested" => v.is_object(),
        _ => false,
    };
    (!ok).then(|| format!("{v} is not a valid {kind}"))
}

/// Checks every document; returns the problems (at most one per field and
/// kind of problem) and the ECS fields used, by level.
fn validate(
    docs: &[Value],
    ecs: &BTreeMap<String, Field>,
) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut problems = BTreeSet::new();
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for doc in docs {
        let mut all = Vec::new();
        leaves("", doc, &mut all);
        for (name, v) in all {
            if NOT_ECS.iter().any(|p| name.starts_with(p))
                || NOT_ECS_FIELDS.contains(&name.as_str())
            {
                continue;
            }
            let Some(f) = ecs.get(&name) else {
                problems.insert(format!("{name}: not an ECS field"));
                continue;
            };
            used.entry(f.level.clone())
                .or_default()
                .insert(name.clone());
            let values: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                x => {
                    if f.array {
                        problems.insert(format!("{name}: ECS expects an array"));
                    }
                    vec![x]
                }
            };
            for x in values {
                if let Some(why) = misfit(&f.kind, x) {
                    problems.insert(format!("{name}: {why}"));
                }
                if let (Some(allowed), Some(s)) = (&f.allowed, x.as_str())
                    && !allowed.contains(s)
                {
                    problems.insert(format!("{name}: {s:?} is not an allowed value"));
                }
            }
        }
    }
    (problems, used)
}

fn lateral(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn docs_of(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every line is JSON"))
        .collect()
}

/// The fields every document must carry, whatever it is.
fn check_required(docs: &[Value], what: &str) {
    for d in docs {
        for path in [
            "/@timestamp",
            "/ecs/version",
            "/event/kind",
            "/event/category",
            "/event/type",
            "/related/hosts",
            "/related/user",
        ] {
            assert!(d.pointer(path).is_some(), "{what}: {path} missing in {d}");
        }
    }
}

#[test]
fn every_field_written_is_an_ecs_field_of_the_right_type() {
    let Some(ecs) = reference("every_field_written_is_an_ecs_field_of_the_right_type") else {
        return;
    };
    let mut docs = Vec::new();
    let alerts = docs_of(&lateral(&[
        "analyze",
        "-q",
        "--json",
        "-",
        "--year",
        "2011",
        "testdata/diet",
    ]));
    assert!(alerts.len() > 10, "the diet network raises alerts");
    check_required(&alerts, "alerts");
    // Sub-techniques split as ECS places them.
    let smb = alerts
        .iter()
        .find(|a| a.pointer("/threat/technique/subtechnique/id/0") == Some(&"T1021.002".into()))
        .expect("an SMB alert");
    assert_eq!(smb["threat"]["technique"]["id"][0], "T1021");
    assert_eq!(smb["threat"]["tactic"]["id"][0], "TA0008");
    let events = docs_of(&lateral(&[
        "events",
        "-q",
        "--year",
        "2011",
        "testdata/diet",
        "testdata/hostlogs",
        "testdata/windows",
        "testdata/zeek-json",
    ]));
    check_required(&events, "events");
    docs.extend(alerts);
    docs.extend(events);
    if let Some(corpus) = common::corpus_dir("every_field_written_is_an_ecs_field (corpus part)") {
        let logs = corpus.join("logs");
        let zeek = corpus.join("zeek-logs");
        let more = docs_of(&lateral(&[
            "events",
            "-q",
            &logs.to_string_lossy(),
            &zeek.to_string_lossy(),
        ]));
        check_required(&more, "corpus events");
        docs.extend(more);
    }
    let (problems, used) = validate(&docs, &ecs);
    let counts: Vec<String> = used
        .iter()
        .map(|(l, f)| format!("{} {l}", f.len()))
        .collect();
    eprintln!(
        "ECS fields written in {} documents: {}",
        docs.len(),
        counts.join(", ")
    );
    assert!(
        problems.is_empty(),
        "fields that break ECS 8.11:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert!(used.values().map(BTreeSet::len).sum::<usize>() > 40);
}

#[test]
fn the_validator_catches_wrong_names_types_and_values() {
    let Some(ecs) = reference("the_validator_catches_wrong_names_types_and_values") else {
        return;
    };
    let bad: Value = serde_json::json!({
        "@timestamp": "2011-07-26T10:00:00Z",
        "network": {"iana_number": 6},
        "event": {"kind": "alarm", "category": "network"},
        "source": {"ip": "not-an-address"},
        "threat": {"technique": {"subid": "T1021.002"}},
        "lateral": {"anything": 1}
    });
    let (problems, _) = validate(&[bad], &ecs);
    let text = problems.into_iter().collect::<Vec<_>>().join("\n");
    for want in [
        "network.iana_number: 6 is not a valid keyword",
        "event.kind: \"alarm\" is not an allowed value",
        "event.category: ECS expects an array",
        "source.ip: \"not-an-address\" is not a valid ip",
        "threat.technique.subid: not an ECS field",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains("lateral."), "{text}");
}
