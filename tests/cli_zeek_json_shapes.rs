//! Black-box tests of Zeek JSON as lab data sets ship it, through the real
//! binary: `@stream` instead of `_path`, flattened `id_orig_h` names, `ts`
//! as RFC 3339 text or an epoch number (`testdata/zeek-json/`); objects
//! that are not Zeek records give a warning and exit 3; and every Zeek TSV
//! log of the shared corpus, rewritten in that shape, gives the same
//! events and connection records as the TSV itself.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn testdata(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/zeek-json")
        .join(p)
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn docs(o: &Output) -> Vec<serde_json::Value> {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn actions(d: &[serde_json::Value]) -> Vec<String> {
    d.iter()
        .map(|e| e["event"]["action"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn stream_named_flattened_rfc3339_lines_are_sniffed_and_read() {
    let o = run(&["events", "--stats", &testdata("otrf-stream.json")]);
    assert!(stderr(&o).contains("zeekjson"), "{}", stderr(&o));
    let d = docs(&o);
    assert_eq!(
        actions(&d),
        [
            "dns-answer",
            "connection",
            "kerberos-service-ticket",
            "share-accessed",
            "file-opened",
            "rpc-call",
            "ntlm-authentication",
        ]
    );
    // The conn record is a connection record, as from a capture.
    let flow = &d[1];
    assert_eq!(flow["@timestamp"], "2020-09-22T18:53:30.072504Z");
    assert_eq!(flow["event"]["dataset"], "lateral.flow");
    assert_eq!(flow["source"]["ip"], "172.18.39.5");
    assert_eq!(flow["destination"]["port"], 445);
    for e in d.iter().filter(|e| e["event"]["dataset"] != "lateral.flow") {
        assert_eq!(e["source"]["ip"], "172.18.39.5", "{e}");
        assert!(e["event"]["dataset"].as_str().unwrap().starts_with("zeek."));
    }
    assert_eq!(d[2]["user"]["name"], "pgustavo");
    assert_eq!(d[3]["destination"]["ip"], "172.18.39.6");
}

#[test]
fn flattened_lines_without_a_log_name_are_told_by_their_fields() {
    let d = docs(&run(&["events", &testdata("flattened-epoch.json")]));
    assert_eq!(
        actions(&d),
        [
            "connection",
            "logon-failed",
            "rdp-connection",
            "kerberos-tgt-request"
        ]
    );
    assert_eq!(d[0]["@timestamp"], "2020-09-22T18:53:30.072504Z");
    assert_eq!(d[1]["@timestamp"], "2020-09-22T18:53:31.000000Z");
    assert_eq!(d[1]["destination"]["port"], 22);
    assert_eq!(d[2]["user"]["name"], "pgustavo");
}

#[test]
fn analyze_reads_lab_zeek_json() {
    let o = run(&["analyze", "--stats", &testdata("otrf-stream.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("lateral analyze: "));
}

#[test]
fn objects_that_are_not_zeek_records_are_a_warning_and_exit_3() {
    let p = testdata("without-ts.json");
    // Not recognised as anything.
    let o = run(&["events", "-q", &p]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&p), "{}", stderr(&o));
    // Named as Zeek JSON: every line skipped, said so.
    for cmd in ["events", "analyze"] {
        let o = run(&[cmd, "-q", "--format", "zeek-json", &p]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.lines().any(|l| l.contains(&p)
                && l.contains("all 3 record(s) were skipped")
                && l.contains("without ts")),
            "{err}"
        );
    }
}

/// Decodes Zeek's `\xHH` escapes (and `\\`).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(Ok(v)) = s.get(i + 2..i + 4).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(v);
            i += 4;
            continue;
        }
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Epoch seconds with a fraction as RFC 3339 text with microseconds.
fn rfc3339(epoch: &str) -> String {
    let (secs, frac) = epoch.split_once('.').unwrap_or((epoch, ""));
    let secs: i64 = secs.parse().unwrap();
    let micros = format!("{frac:0<6}");
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        &micros[..6]
    )
}

/// A Zeek TSV log rewritten as lab data sets ship Zeek JSON: `@stream`,
/// `@system`, flattened names, RFC 3339 `ts`, sets and vectors as arrays.
fn as_lab_json(tsv: &str) -> String {
    let mut fields: Vec<String> = Vec::new();
    let mut path = String::new();
    let mut out = String::new();
    for line in tsv.lines() {
        if let Some(rest) = line.strip_prefix("#fields\t") {
            fields = rest.split('\t').map(str::to_string).collect();
            continue;
        }
        if let Some(rest) = line.strip_prefix("#path\t") {
            path = rest.to_string();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("@stream".into(), path.clone().into());
        obj.insert("@system".into(), "bro".into());
        for (name, value) in fields.iter().zip(line.split('\t')) {
            if value == "-" {
                continue;
            }
            let key = name.replace("id.", "id_");
            let v: serde_json::Value = if value == "(empty)" {
                "".into()
            } else if name == "ts" {
                rfc3339(value).into()
            } else if name == "answers" || name == "TTLs" {
                value
                    .split(',')
                    .map(|x| serde_json::Value::from(unescape(x)))
                    .collect()
            } else {
                unescape(value).into()
            };
            obj.insert(key, v);
        }
        out.push_str(&serde_json::Value::Object(obj).to_string());
        out.push('\n');
    }
    out
}

/// The output documents without `log` (file and line differ by shape).
fn without_origin(o: &Output) -> Vec<serde_json::Value> {
    let mut d = docs(o);
    for e in &mut d {
        if let Some(m) = e.as_object_mut() {
            m.remove("log");
            // event.id names the record's file and line too.
            if let Some(ev) = m.get_mut("event").and_then(|v| v.as_object_mut()) {
                ev.remove("id");
            }
        }
    }
    d
}

#[test]
fn corpus_zeek_tsv_logs_read_alike_as_lab_json() {
    let Some(corpus) = common::corpus_dir("corpus_zeek_tsv_logs_read_alike_as_lab_json") else {
        return;
    };
    let zeek = corpus.join("logs/zeek");
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&zeek)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    for tsv_path in names {
        let tsv = std::fs::read_to_string(&tsv_path).unwrap();
        let json = as_lab_json(&tsv);
        if json.is_empty() {
            continue;
        }
        let stem = tsv_path.file_stem().unwrap().to_string_lossy().to_string();
        // A neutral name: the log's kind must come from `@stream`.
        let json_path: &Path = &dir.path().join(format!("lab-{stem}.json"));
        std::fs::write(json_path, &json).unwrap();
        let want = without_origin(&run(&["events", tsv_path.to_str().unwrap()]));
        let got = without_origin(&run(&["events", json_path.to_str().unwrap()]));
        assert_eq!(got.len(), want.len(), "{stem}");
        assert_eq!(got, want, "{stem}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} logs compared");
}
