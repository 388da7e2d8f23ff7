#!/usr/bin/env python3
"""Run lateral over many machines with Apache Spark (PySpark).

The job lists the inputs of a learning period (--learn) and of the period
to judge (--today), spreads the files over Spark partitions, and on each
partition runs

    lateral baseline build --partial   (its learning files)
    lateral summary build              (its files to judge)

The parts travel back as bytes (RDD values: no shared file system is needed
for them) and are merged with a tree reduce (`lateral baseline merge
--partial`, `lateral summary merge`: both merges are associative and
commutative, so any tree gives the same bytes). The driver finishes the
baseline (`lateral baseline merge`) and runs the detectors over the merged
summary:

    lateral analyze --baseline OUT/baseline.lat --summary OUT/today.sum \\
        --json OUT/alerts.jsonl --html OUT/report.html > OUT/report.txt

The alerts are those of one `lateral baseline build` + `lateral analyze
--baseline` over the same inputs, byte for byte (docs/sharding.md).

Local:    spark-submit --master 'local[*]' scripts/lateral_spark.py \\
              --lateral target/release/lateral --learn learn/ --today today/ --out out/
Cluster:  spark-submit --master yarn --files /opt/lateral/bin/lateral \\
              scripts/lateral_spark.py --lateral lateral --learn /data/learn \\
              --today /data/today --out /data/out

The binary reaches the executors through SparkFiles: either shipped with
`spark-submit --files` (then --lateral names it by its file name), or added
by the job itself when --lateral is a file on the driver. Inputs are named
by path: every executor must see them at the same path (a shared mount), and
relative paths are taken from the driver's working directory (--cwd).
"""

import argparse
import glob
import os
import shutil
import stat
import subprocess
import sys
import tempfile

# Files met inside a walked directory that lateral leaves out (kept in step
# with lateral's `input::skip_reason`): a scenario's truth, metadata, docs.
_SKIP_EXT = {"yaml", "yml", "md", "markdown", "rst"}
_DOC_STEMS = (
    "readme",
    "license",
    "licence",
    "copying",
    "changelog",
    "changes",
    "notice",
    "authors",
)


def skipped(name):
    """True for a file lateral leaves out of a directory walk."""
    low = name.lower()
    if low == "truth.json":
        return True
    stem, dot, ext = low.rpartition(".")
    if not dot:
        stem, ext = low, ""
    if ext in _SKIP_EXT:
        return True
    return ext in ("", "txt") and stem.startswith(_DOC_STEMS)


def walk(path):
    """Files under a directory, as lateral walks it: sorted by name, links
    not followed, documentation and metadata left out."""
    out = []
    try:
        entries = sorted(os.listdir(path))
    except OSError as e:
        raise SystemExit(f"lateral_spark: cannot list {path}: {e}")
    for name in entries:
        full = os.path.join(path, name)
        if os.path.islink(full):
            continue
        if os.path.isdir(full):
            out.extend(walk(full))
        elif os.path.isfile(full) and not skipped(name):
            out.append(full)
    return out


def list_inputs(specs):
    """The files named by directories, globs and files, sorted, each once."""
    files = []
    for spec in specs:
        matches = sorted(glob.glob(spec)) if glob.has_magic(spec) else [spec]
        if not matches:
            raise SystemExit(f"lateral_spark: {spec} matches nothing")
        for m in matches:
            if os.path.isdir(m):
                files.extend(walk(m.rstrip("/") or "/"))
            elif os.path.isfile(m):
                files.append(m)
            else:
                raise SystemExit(f"lateral_spark: {m} is not a file or a directory")
    return sorted(set(files))


def binary(name):
    """The lateral binary where this task runs: the copy SparkFiles
    delivered, else `name` itself (a path, or a name on PATH)."""
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(os.path.basename(name))
        if os.path.isfile(shipped):
            mode = os.stat(shipped).st_mode
            if not mode & stat.S_IXUSR:
                os.chmod(shipped, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return shipped
    except Exception:  # noqa: BLE001 - no SparkContext here: use the name
        pass
    # A cluster-mode driver finds files given to --files in its directory.
    here = os.path.basename(name)
    if not os.path.isfile(name) and os.path.isfile(here):
        return os.path.abspath(here)
    return name


def run(lateral, args, cwd=None, ok=(0,)):
    """Runs lateral; fails the task (with lateral's message) on another status."""
    cmd = [binary(lateral), "-q"] + args
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.decode(errors='replace')}"
        )
    return p


def build_part(lateral, cwd, kind, files):
    """The part of one partition's files, as bytes (None for no files)."""
    files = list(files)
    if not files:
        return
    tmp = tempfile.mkdtemp(prefix="lateral-part-")
    try:
        out = os.path.join(tmp, "part")
        if kind == "baseline":
            cmd = ["baseline", "build", "--partial", "-o", out]
        else:
            cmd = ["summary", "build", "-o", out]
        where = cwd if cwd and os.path.isdir(cwd) else None
        # 3: written, but an input was incomplete (lateral printed why).
        p = run(lateral, cmd + ["--"] + files, cwd=where, ok=(0, 3))
        if p.returncode == 3:
            sys.stderr.write(p.stderr.decode(errors="replace"))
        with open(out, "rb") as f:
            yield f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def merge_parts(lateral, kind, a, b):
    """Two parts merged into one, as bytes."""
    tmp = tempfile.mkdtemp(prefix="lateral-merge-")
    try:
        pa, pb, out = (os.path.join(tmp, n) for n in ("a", "b", "m"))
        for path, data in ((pa, a), (pb, b)):
            with open(path, "wb") as f:
                f.write(data)
        if kind == "baseline":
            cmd = ["baseline", "merge", "--partial", "-o", out, pa, pb]
        else:
            cmd = ["summary", "merge", "-o", out, pa, pb]
        run(lateral, cmd)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def merged(sc, lateral, cwd, kind, files, partitions, depth):
    """The merge of the parts of `files` spread over `partitions`."""
    n = max(1, min(partitions, len(files)))
    # Contiguous runs of the sorted names: deterministic, and the files of
    # one directory (a day, a sensor) mostly stay together.
    rdd = sc.parallelize(files, n)
    parts = rdd.mapPartitions(lambda it: build_part(lateral, cwd, kind, it))
    return parts.treeReduce(lambda a, b: merge_parts(lateral, kind, a, b), depth=depth)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lateral", required=True,
                    help="the lateral binary: a path on the driver (shipped by the job), "
                         "or the file name of one given to spark-submit --files")
    ap.add_argument("--learn", action="append", required=True,
                    help="learning inputs: a directory, a glob or a file (repeatable)")
    ap.add_argument("--today", action="append", required=True,
                    help="inputs to judge: a directory, a glob or a file (repeatable)")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--hosts", help="host directory CSV, applied when the baseline is finished")
    ap.add_argument("--partitions", type=int, default=0,
                    help="partitions per stage (default: Spark's default parallelism)")
    ap.add_argument("--depth", type=int, default=2, help="depth of the tree reduce")
    ap.add_argument("--cwd", default=os.getcwd(),
                    help="where relative input paths are read from on executors "
                         "(default: the driver's working directory)")
    ap.add_argument("--master", help="Spark master when not run by spark-submit (e.g. local[2])")
    args = ap.parse_args(argv)

    if args.master:
        # Python workers of a local run use this interpreter (with pyspark).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext

    conf = SparkConf().setAppName("lateral")
    if args.master:
        conf = conf.setMaster(args.master)
    sc = SparkContext.getOrCreate(conf)
    try:
        lateral = args.lateral
        if os.path.isfile(lateral):
            lateral = os.path.abspath(lateral)
            sc.addFile(lateral)
        learn = list_inputs(args.learn)
        today = list_inputs(args.today)
        if not learn or not today:
            raise SystemExit("lateral_spark: no learning files or no files to judge")
        if set(learn) & set(today):
            raise SystemExit("lateral_spark: a file is both learned from and judged")
        partitions = args.partitions or sc.defaultParallelism
        os.makedirs(args.out, exist_ok=True)
        part = merged(sc, lateral, args.cwd, "baseline", learn, partitions, args.depth)
        summary = merged(sc, lateral, args.cwd, "summary", today, partitions, args.depth)
        out = os.path.abspath(args.out)
        paths = {k: os.path.join(out, k) for k in
                 ("baseline.part", "baseline.lat", "today.sum", "alerts.jsonl",
                  "report.html", "report.txt")}
        with open(paths["baseline.part"], "wb") as f:
            f.write(part)
        with open(paths["today.sum"], "wb") as f:
            f.write(summary)
        finish = ["baseline", "merge", "--force", "-o", paths["baseline.lat"],
                  paths["baseline.part"]]
        if args.hosts:
            finish += ["--hosts", os.path.abspath(args.hosts)]
        run(lateral, finish)
        p = run(lateral, ["analyze", "--force", "--baseline", paths["baseline.lat"],
                          "--summary", paths["today.sum"], "--json", paths["alerts.jsonl"],
                          "--html", paths["report.html"]], ok=(0, 3))
        with open(paths["report.txt"], "wb") as f:
            f.write(p.stdout)
        sys.stderr.write(p.stderr.decode(errors="replace"))
        print(f"lateral_spark: {len(learn)} learning files, {len(today)} judged files, "
              f"{partitions} partitions; wrote {out}")
        return p.returncode
    finally:
        sc.stop()


if __name__ == "__main__":
    sys.exit(main())
