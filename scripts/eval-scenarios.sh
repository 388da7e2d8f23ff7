#!/usr/bin/env bash
# Score `lateral analyze` (defaults) against generated scenarios with known truth
# (issue 6, "Scorer"): for each scenario and seed, generate a network under attack,
# analyze it, score the alerts, print one row per run and a pass/fail summary per target.
#
#   scripts/eval-scenarios.sh [--hosts N|LO-HI] [--days D|--hours H] [--seeds "1 2 3"|A-B] [--scenarios "diet quiet"] [--vary]
#                             [--bin PATH] [--scores FILE] [--summarize FILE...]
#
# --bin runs a given build instead of building this checkout; --scores appends each
# run's row (JSON) to FILE as well, so long evaluations can be run in parts (and on
# several machines); --summarize FILE... prints the targets over rows saved that way.
#
# --hours H generates H hours instead of days: under a day, `analyze` (default
# --learn auto) learns nothing and judges every record against role priors.
# Defaults are the issue's targets: 200 hosts, 7 days, seeds 1-5, all four scenarios.
# --vary draws each network's shape from its seed (`lateral gen --vary`); --hosts LO-HI
# draws each run's host count from the seed too. Seeds 1-1000 are for tuning; judge
# with seeds above 1000, which no tuning has seen.
# Runs one capture at a time and deletes it after scoring (200x7 is ~750 MB).
set -euo pipefail

hosts=200
days=7
hours=""
vary=""
bin=""
keep=""
summarize=()

seeds="1 2 3 4 5"
scenarios="diet contractor spray quiet"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --hosts) hosts="$2"; shift 2 ;;
        --days) days="$2"; shift 2 ;;
        --hours) hours="$2"; shift 2 ;;
        --seeds) seeds="${2//,/ }"; shift 2 ;;
        --scenarios) scenarios="${2//,/ }"; shift 2 ;;
        --vary) vary="--vary"; shift ;;
        --bin) bin="$2"; shift 2 ;;
        --scores) keep="$2"; shift 2 ;;
        --summarize) shift; summarize=("$@"); break ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v python3 >/dev/null || { echo "python3 is needed to read the scores" >&2; exit 2; }
span=(--days "$days")
if [[ -n "$hours" ]]; then
    span=(--hours "$hours")
    days="$(python3 -c "print($hours / 24)")"
fi
if [[ "$seeds" =~ ^([0-9]+)-([0-9]+)$ ]]; then
    seeds="$(seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" | tr '\n' ' ')"
fi
# The host count of one run: fixed, or drawn from the seed within LO-HI.
hosts_of() {
    if [[ "$hosts" =~ ^([0-9]+)-([0-9]+)$ ]]; then
        local lo="${BASH_REMATCH[1]}" hi="${BASH_REMATCH[2]}"
        echo $(( lo + ($1 * 7919 + 104729) % (hi - lo + 1) ))
    else
        echo "$hosts"
    fi
}

[[ -n "$keep" ]] && keep="$(realpath -m "$keep")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
scores="$tmp/scores.jsonl"
: > "$scores"
if [[ ${#summarize[@]} -gt 0 ]]; then
    cat "${summarize[@]}" > "$scores"
    seeds=""
elif [[ -z "$bin" ]]; then
    cd "$(dirname "$0")/.."
    cargo build --release --quiet
    bin="$PWD/target/release/lateral"
fi

printf '%-10s %4s %8s %6s %9s %5s %5s %8s %7s %7s %5s %10s\n' \
    scenario seed lat_rec recall precision true false fp/1khd '>=med' '>med' rank first_s
for s in $scenarios; do
    for n in $seeds; do
        run="$tmp/$s-$n"
        h="$(hosts_of "$n")"
        "$bin" gen --scenario "$s" --hosts "$h" "${span[@]}" --seed "$n" $vary -o "$run" 2>/dev/null
        # The capture and logs only: truth.json is for the scorer, not the detectors.
        "$bin" analyze -q --json "$run/alerts.jsonl" "$run/capture.pcap" "$run/logs" >/dev/null
        "$bin" eval -q --json --truth "$run/truth.json" "$run/alerts.jsonl" > "$run/score.json"
        python3 - "$s" "$n" "$run/score.json" "$scores:$keep" "$h" "$days" <<'PY'
import json, sys
scenario, seed, path, out, hosts, days = sys.argv[1:7]
s = json.load(open(path))
row = dict(scenario=scenario, seed=int(seed), hosts=int(hosts), days=float(days), lateral_recall=s["lateral_recall"],
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
for f in out.split(":"):
    if f:
        open(f, "a").write(json.dumps(row) + "\n")
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

python3 - "$scores" "$days" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
days = float(sys.argv[2])
attacks = [r for r in rows if r["steps"] > 0]
quiet = [r for r in rows if r["steps"] == 0]
false = sum(r["false_incidents"] for r in rows)
false_medium = sum(r["false_medium"] for r in rows)
host_days = sum(r["hosts"] * r.get("days", days) for r in rows)
fp_rate = 1000.0 * false / host_days if host_days else 0.0
fp_medium = 1000.0 * false_medium / host_days if host_days else 0.0
lat_recall = sum(r["lateral_recall"] for r in attacks) / len(attacks) if attacks else 1.0
targets = [
    ("every attack run has a true incident ranked first",
     all(r["rank"] == 1 for r in attacks), "%d/%d" % (sum(r["rank"] == 1 for r in attacks), len(attacks))),
    ("lateral recall >= 0.97 over the attack runs",
     lat_recall >= 0.97,
     "%.3f (min per run %.3f)" % (lat_recall, min((r["lateral_recall"] for r in attacks), default=1.0))),
    ("<= 2 false incidents per 1,000 host-days",
     fp_rate <= 2.0, "%.2f overall (%d false over %.0f host-days)" % (fp_rate, false, host_days)),
    ("<= 0.5 false incidents at medium or above per 1,000 host-days",
     fp_medium <= 0.5, "%.2f overall (%d false at medium or above)" % (fp_medium, false_medium)),
    ("quiet: no false incident above medium",
     all(r["above_medium"] == 0 for r in quiet), "%d" % sum(r["above_medium"] for r in quiet)),
]
print()
print("%d runs (%d under attack), %s" % (len(rows), len(attacks), ", ".join(
    "%s %d" % (k, sum(r["scenario"] == k for r in rows)) for k in sorted({r["scenario"] for r in rows}))))
ok = True
for name, passed, detail in targets:
    ok &= passed
    print("%-4s %-52s %s" % ("PASS" if passed else "FAIL", name, detail))
sys.exit(0 if ok else 1)
PY
