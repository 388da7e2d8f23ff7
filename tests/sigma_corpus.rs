//! Sigma on the shared corpus: the SigmaHQ snapshot loads, specific
//! SigmaHQ rules fire on the recordings of the attacks they describe (and
//! not on others), and a Sigma hit joins lateral's alert on the same hop
//! in one incident. Skipped, saying so, without the corpus.

mod common;

use lateral::input::InputPath;
use lateral::sigma::scan::{ScanOptions, scan};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Hit titles of the rules in `rule_files` over `input`.
fn titles(corpus: &Path, rule_files: &[&str], input: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for r in rule_files {
        let rules = lateral::sigma::load(&corpus.join("sigma").join(r)).expect("rule loads");
        assert_eq!(rules.report.refused, Vec::new(), "{r} refused");
        assert_eq!(rules.len(), 1, "{r}");
        let (hits, _) = scan(
            &rules,
            &[InputPath::File(input.to_path_buf())],
            ScanOptions::default(),
        );
        all.extend(
            hits.iter()
                .filter_map(|h| h.label("sigma_title").map(str::to_string)),
        );
    }
    all.sort();
    all.dedup();
    all
}

fn otrf(corpus: &Path, name: &str) -> PathBuf {
    corpus.join("logs/windows-json/otrf").join(name)
}

fn e2m(corpus: &Path, needle: &str) -> PathBuf {
    let base = corpus.join("logs/evtx/e2m");
    let mut found = Vec::new();
    for tactic in std::fs::read_dir(&base).expect("e2m").flatten() {
        for tech in std::fs::read_dir(tactic.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for f in std::fs::read_dir(tech.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.file_name().to_string_lossy().contains(needle) {
                    found.push(f.path());
                }
            }
        }
    }
    found.sort();
    found.into_iter().next().expect("e2m file present")
}

#[test]
fn sigmahq_snapshot_loads_and_refusals_are_explained() {
    let Some(corpus) = common::corpus_dir("sigmahq_snapshot_loads_and_refusals_are_explained")
    else {
        return;
    };
    let rules = lateral::sigma::load(&corpus.join("sigma")).expect("folder loads");
    let r = &rules.report;
    eprintln!("{}", r.summary());
    // The snapshot's README counts 2,798 rule files.
    assert_eq!(r.files, 2798);
    assert!(r.loaded >= 2700, "only {} rules loaded", r.loaded);
    for x in &r.refused {
        assert!(!x.reason.is_empty(), "refusal without a reason: {x:?}");
    }
    assert_eq!(rules.len(), r.loaded);
}

#[test]
fn service_creation_rules_fire_on_psexec_style_recordings() {
    let Some(corpus) = common::corpus_dir("service_creation_rules_fire_on_psexec_style_recordings")
    else {
        return;
    };
    let service_rules = [
        "rules/windows/builtin/system/service_control_manager/win_system_cobaltstrike_service_installs.yml",
        "rules/windows/builtin/system/service_control_manager/win_system_powershell_script_installed_as_service.yml",
    ];
    // Empire's PsExec-style service "Updater" (7045 on WORKSTATION6).
    let got = titles(
        &corpus,
        &service_rules,
        &otrf(
            &corpus,
            "empire_psexec_dcerpc_tcp_svcctl_2020-09-20121608.json.gz",
        ),
    );
    assert_eq!(
        got,
        [
            "CobaltStrike Service Installations - System",
            "PowerShell Scripts Installed as Services"
        ]
    );
    // A plain SMB file copy installs no service.
    let none = titles(
        &corpus,
        &service_rules,
        &otrf(
            &corpus,
            "covenant_copy_smb_CreateRequest_2020-09-22145302.json",
        ),
    );
    assert_eq!(none, Vec::<String>::new());
    // Sysinternals PsExec's service process (Security 4688, EVTX).
    let psexec = titles(
        &corpus,
        &["rules/windows/process_creation/proc_creation_win_sysinternals_psexesvc.yml"],
        &e2m(&corpus, "PSexec remote execution"),
    );
    assert_eq!(psexec, ["PsExec Service Execution"]);
}

#[test]
fn wmi_and_admin_share_rules_fire_on_their_recordings_only() {
    let Some(corpus) =
        common::corpus_dir("wmi_and_admin_share_rules_fire_on_their_recordings_only")
    else {
        return;
    };
    let wmi = ["rules/windows/process_creation/proc_creation_win_wmiprvse_spawns_powershell.yml"];
    let smb = ["rules/windows/builtin/security/win_security_smb_file_creation_admin_shares.yml"];
    let wmi_rec = otrf(
        &corpus,
        "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod_2020-09-21001437.json.gz",
    );
    let smb_rec = otrf(
        &corpus,
        "covenant_copy_smb_CreateRequest_2020-09-22145302.json",
    );
    assert_eq!(
        titles(&corpus, &wmi, &wmi_rec),
        ["Potential WMI Lateral Movement WmiPrvSE Spawned PowerShell"]
    );
    assert_eq!(titles(&corpus, &wmi, &smb_rec), Vec::<String>::new());
    assert_eq!(
        titles(&corpus, &smb, &smb_rec),
        ["SMB Create Remote File Admin Share"]
    );
    assert_eq!(titles(&corpus, &smb, &wmi_rec), Vec::<String>::new());
}

#[test]
fn a_sigma_hit_and_lateral_alert_on_one_hop_are_one_incident() {
    let Some(corpus) =
        common::corpus_dir("a_sigma_hit_and_lateral_alert_on_one_hop_are_one_incident")
    else {
        return;
    };
    let input = e2m(&corpus, "PSexec remote execution");
    let rule = corpus
        .join("sigma/rules/windows/process_creation/proc_creation_win_sysinternals_psexesvc.yml");
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["analyze", "-q", "--learn", "0%", "--json", "-", "--sigma"])
        .arg(&rule)
        .arg(&input)
        .output()
        .expect("lateral runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let alerts: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let sigma: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["rule"]["ruleset"] == "sigma")
        .collect();
    let own: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["rule"]["ruleset"].is_null())
        .collect();
    assert_eq!(sigma.len(), 1, "{text}");
    assert_eq!(sigma[0]["rule"]["name"], "PsExec Service Execution");
    assert_eq!(
        sigma[0]["rule"]["id"],
        "fdfcbd78-48f1-4a4b-90ac-d82241e368c5"
    );
    // The rule is tagged with its tactic only.
    assert!(sigma[0]["threat"]["technique"].is_null(), "{}", sigma[0]);
    assert_eq!(sigma[0]["threat"]["tactic"]["name"][0], "Execution");
    let remote = own
        .iter()
        .find(|a| a["rule"]["id"] == "lateral.remote-exec")
        .expect("lateral's remote-exec alert");
    assert_eq!(remote["source"]["ip"], "10.23.42.22");
    assert_eq!(
        sigma[0]["lateral"]["incident"]["id"],
        remote["lateral"]["incident"]["id"]
    );
}

/// `[sigma] rules` in the configuration (a path relative to the
/// configuration file) evaluates the rules as `--sigma` does: the same
/// alerts, byte for byte; `--sigma` on the command line wins over it.
#[test]
fn the_configurations_sigma_rules_are_evaluated_as_the_flag() {
    let Some(corpus) =
        common::corpus_dir("the_configurations_sigma_rules_are_evaluated_as_the_flag")
    else {
        return;
    };
    let input = e2m(&corpus, "PSexec remote execution");
    let rule = corpus
        .join("sigma/rules/windows/process_creation/proc_creation_win_sysinternals_psexesvc.yml");
    let t = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(t.path().join("rules")).expect("rules dir");
    std::fs::copy(&rule, t.path().join("rules/psexesvc.yml")).expect("copy rule");
    let config = t.path().join("lateral.toml");
    std::fs::write(&config, "[sigma]\nrules = \"rules\"\n").expect("config");
    let run = |extra: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
            .args(["analyze", "-q", "--learn", "0%", "--json", "-"])
            .args(extra)
            .arg(&input)
            .output()
            .expect("lateral runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let by_flag = run(&["--sigma".as_ref(), rule.as_os_str()]);
    let by_config = run(&["--config".as_ref(), config.as_os_str()]);
    let neither = run(&[]);
    assert!(by_flag.contains("\"ruleset\":\"sigma\""), "{by_flag}");
    assert_eq!(by_config, by_flag);
    assert!(!neither.contains("\"ruleset\":\"sigma\""), "{neither}");
    // The flag wins: a rule this recording does not hit, given on the
    // command line, replaces the configuration's.
    let other = corpus.join(
        "sigma/rules/windows/builtin/security/win_security_smb_file_creation_admin_shares.yml",
    );
    let flag_wins = run(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--sigma".as_ref(),
        other.as_os_str(),
    ]);
    assert!(!flag_wins.contains("\"ruleset\":\"sigma\""), "{flag_wins}");
}
