//! DNS answers in captures name the hosts the capture knows only by IP:
//! `lateral events --hosts-only` and `lateral analyze` on the shipped
//! captures.

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;

fn lateral(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn testdata(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

fn directory(input: &str) -> Vec<serde_json::Value> {
    let out = lateral(&["events", "--hosts-only", input]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The name in DNS wire form (length-prefixed labels, root label last), as
/// an uncompressed question carries it.
fn wire(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name.split('.') {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Checks that the directory entry `key` holds `ip` from DNS evidence.
fn named_by_dns(dir: &[serde_json::Value], key: &str, ip: &str) -> Result<(), String> {
    let e = dir
        .iter()
        .find(|h| h["host.key"] == key)
        .ok_or_else(|| format!("{key}: not in the directory"))?;
    if !e["host.ip"].as_array().unwrap().iter().any(|i| i == ip) {
        return Err(format!("{key}: {ip} not among {}", e["host.ip"]));
    }
    let dns = e["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|ev| ev["source"] == "dns" && ev["ip"] == ip && ev["name"] == key);
    if !dns {
        return Err(format!("{key}: no DNS evidence for {ip}: {e}"));
    }
    Ok(())
}

#[test]
fn demo_capture_dns_answer_names_the_chamber_server() {
    let demo = testdata("demo.pcap");
    let bytes = std::fs::read(&demo).unwrap();
    // The capture asks for srv-chamber by name...
    assert!(contains(&bytes, &wire("srv-chamber.shugiin.local")));
    // ...and the answer gives it a name in the directory, with its FQDN.
    let dir = directory(&demo.display().to_string());
    named_by_dns(&dir, "srv-chamber", "10.10.2.20").unwrap();
    let e = dir.iter().find(|h| h["host.key"] == "srv-chamber").unwrap();
    assert!(
        e["host.name"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "srv-chamber.shugiin.local")
    );
    // The events carry the answer as the directory reads it.
    let out = lateral(&["events", &demo.display().to_string()]);
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"]["action"] == "dns-answer")
        .collect();
    assert!(!answers.is_empty());
    for a in &answers {
        assert_eq!(a["event"]["dataset"], "network.dns");
        assert_eq!(a["source"]["port"], 53);
        assert!(a["destination"]["domain"].is_string(), "{a}");
        assert!(a["destination"]["ip"].is_string(), "{a}");
        assert!(a["log"]["offset"].is_u64(), "{a}");
    }
}

#[test]
fn diet_capture_names_every_host_it_asks_for() {
    let root = testdata("diet");
    let capture = root.join("capture.pcap.gz");
    if !capture.is_file() {
        eprintln!("SKIPPED diet_capture_names_every_host_it_asks_for: testdata/diet absent");
        return;
    }
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&capture).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("truth.json")).unwrap()).unwrap();
    // The capture alone: no log says who is who.
    let dir = directory(&capture.display().to_string());
    let mut asked = 0;
    let mut failures = Vec::new();
    for h in truth["hosts_table"].as_array().unwrap() {
        let (ip, name) = (h["ip"].as_str().unwrap(), h["name"].as_str().unwrap());
        let fqdn = format!("{name}.shugiin.local");
        if !contains(&bytes, &wire(&fqdn)) {
            continue;
        }
        asked += 1;
        if let Err(e) = named_by_dns(&dir, name, ip) {
            failures.push(e);
        }
    }
    assert!(asked >= 5, "only {asked} hosts asked for by name");
    assert!(failures.is_empty(), "{failures:#?}");
    // The domain controller is among them.
    named_by_dns(&dir, "dc01", "10.10.1.10").unwrap();
}

#[test]
fn diet_incident_paths_show_the_dc_once() {
    let root = testdata("diet");
    let capture = root.join("capture.pcap.gz");
    if !capture.is_file() {
        eprintln!("SKIPPED diet_incident_paths_show_the_dc_once: testdata/diet absent");
        return;
    }
    let out = lateral(&["analyze", "--json", "-", &root.display().to_string()]);
    let report = String::from_utf8_lossy(&out.stderr).to_string();
    let paths: Vec<&str> = report
        .lines()
        .filter(|l| l.trim_start().starts_with("path:"))
        .collect();
    assert!(!paths.is_empty(), "{report}");
    assert!(paths.iter().any(|p| p.contains("dc01")), "{report}");
    for p in &paths {
        assert!(!p.contains("10.10.1.10"), "DC by address: {p}");
    }
    // Every alert that names the DC's address names it dc01 too.
    let mut seen = 0;
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let a: serde_json::Value = serde_json::from_str(l).unwrap();
        for side in ["source", "destination"] {
            if a[side]["ip"] == "10.10.1.10" {
                seen += 1;
                assert_eq!(a[side]["domain"], "dc01", "{a}");
            }
        }
    }
    assert!(seen > 0);
}
