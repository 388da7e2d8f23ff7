#!/usr/bin/env bash
# Score `lateral analyze` (defaults) against generated scenarios with known truth
# (issue 6, "Scorer"): for each scenario and seed, generate a network under attack,
# analyze it, score the alerts, print one row per run and a pass/fail summary per target.
#
#   scripts/eval-scenarios.sh [--hosts N] [--days D] [--seeds "1 2 3"] [--scenarios "diet quiet"]
#
# Defaults are the issue's targets: 200 hosts, 7 days, seeds 1-5, all four scenarios.
# Runs one capture at a time and deletes it after scoring (200x7 is ~750 MB).
set -euo pipefail

hosts=200
days=7
seeds="1 2 3 4 5"
scenarios="diet contractor spray quiet"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --hosts) hosts="$2"; shift 2 ;;
        --days) days="$2"; shift 2 ;;
        --seeds) seeds="${2//,/ }"; shift 2 ;;
        --scenarios) scenarios="${2//,/ }"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v python3 >/dev/null || { echo "python3 is needed to read the scores" >&2; exit 2; }

cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/lateral"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

scores="$tmp/scores.jsonl"
: > "$scores"
printf '%-10s %4s %8s %6s %9s %5s %5s %8s %7s %7s %5s %10s\n' \
    scenario seed lat_rec recall precision true false fp/1khd '>=med' '>med' rank first_s
for s in $scenarios; do
    for n in $seeds; do
        run="$tmp/$s-$n"
        "$bin" gen --scenario "$s" --hosts "$hosts" --days "$days" --seed "$n" -o "$run" 2>/dev/null
        # The capture and logs only: truth.json is for the scorer, not the detectors.
        "$bin" analyze -q --json "$run/alerts.jsonl" "$run/capture.pcap" "$run/logs" >/dev/null
        "$bin" eval -q --json --truth "$run/truth.json" "$run/alerts.jsonl" > "$run/score.json"
        python3 - "$s" "$n" "$run/score.json" "$scores" <<'PY'
import json, sys
scenario, seed, path, out = sys.argv[1:5]
s = json.load(open(path))
row = dict(scenario=scenario, seed=int(seed), lateral_recall=s["lateral_recall"],
           recall=s["recall"], precision=s["alert_precision"],
           true_incidents=s["true_incidents"], false_incidents=s["false_incidents"],
           fp_per_1000=s["false_incidents_per_1000_host_days"],
           above_medium=s["false_incidents_above_medium"],
           # False incidents of medium severity or more: the issue lets a benign
           # novelty give "a low-ranked one at most"; those are counted apart.
           false_medium=sum(1 for i in s["incidents"] if not i["steps"] and i["risk_score"] >= 22),
           rank=s["best_true_incident_rank"], first=s["time_to_first_alert_secs"],
           steps=sum(k["total"] for k in s["by_kind"].values()),
           missed=s["missed"])
open(out, "a").write(json.dumps(row) + "\n")
fmt = lambda v, f: "-" if v is None else format(v, f)
print("%-10s %4d %8s %6s %9s %5d %5d %8s %7d %7d %5s %10s" % (
    scenario, int(seed), fmt(row["lateral_recall"], ".3f"), fmt(row["recall"], ".3f"),
    fmt(row["precision"], ".3f"), row["true_incidents"], row["false_incidents"],
    fmt(row["fp_per_1000"], ".2f"), row["false_medium"], row["above_medium"], fmt(row["rank"], "d"),
    fmt(row["first"], ".0f")) + ("  missed: " + ",".join(row["missed"]) if row["missed"] else ""))
PY
        rm -rf "$run"
    done
done

python3 - "$scores" "$hosts" "$days" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
hosts, days = int(sys.argv[2]), float(sys.argv[3])
attacks = [r for r in rows if r["steps"] > 0]
quiet = [r for r in rows if r["steps"] == 0]
false = sum(r["false_incidents"] for r in rows)
false_medium = sum(r["false_medium"] for r in rows)
host_days = hosts * days * len(rows)
fp_rate = 1000.0 * false / host_days if host_days else 0.0
fp_medium = 1000.0 * false_medium / host_days if host_days else 0.0
targets = [
    ("every attack run has a true incident ranked first",
     all(r["rank"] == 1 for r in attacks), "%d/%d" % (sum(r["rank"] == 1 for r in attacks), len(attacks))),
    ("lateral recall >= 0.95 in every attack run",
     all(r["lateral_recall"] >= 0.95 for r in attacks),
     "min %.3f" % min((r["lateral_recall"] for r in attacks), default=1.0)),
    ("<= 1 false-positive incident per 1,000 host-days",
     fp_rate <= 1.0, "%.2f overall (%d false over %.0f host-days)" % (fp_rate, false, host_days)),
    ("  the same, not counting low-severity incidents",
     fp_medium <= 1.0, "%.2f overall (%d false at medium or above)" % (fp_medium, false_medium)),
    ("quiet: no false incident above medium",
     all(r["above_medium"] == 0 for r in quiet), "%d" % sum(r["above_medium"] for r in quiet)),
]
print()
ok = True
for name, passed, detail in targets:
    ok &= passed
    print("%-4s %-52s %s" % ("PASS" if passed else "FAIL", name, detail))
sys.exit(0 if ok else 1)
PY
