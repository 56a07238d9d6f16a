"""Two writers, one folder: two real processes run one approach with different settings into the same run folder,
then two blends (mean and stack) into the same blend folder, ``--rounds`` times. Each round must end with one
writer done and the other refused (by the lock while both run, or by the config check after), and the folder must
equal, file for file, what the winner writes alone: never a mix of the two.

    python benchmarks/bench_race.py [--rounds 20] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

CLI = [sys.executable, "-m", "catalog_ml.cli.main"]
SETTINGS = {"a": "alpha=1.0", "b": "alpha=8.0"}
METHODS = ("mean", "stack")


def cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *arguments], capture_output=True, text=True)


def race(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start every command at once; their results in order."""
    processes = [subprocess.Popen([*CLI, *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
    return [subprocess.CompletedProcess(p.args, p.wait(), *p.communicate()) for p in processes]


def run_command(spec: Path, runs: Path, setting: str) -> list[str]:
    return ["run", "tfidf_ridge", "--dataset", str(spec), "--runs-dir", str(runs), "--set", setting]


def blend_command(spec: Path, runs: Path, method: str, out: Path) -> list[str]:
    return ["blend", "--dataset", str(spec), "--runs-dir", str(runs), "--method", method, "--out-dir", str(out),
            "--submission", str(out.parent / "submission.csv")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="catalog_ml_race_"))
    data = work / "data"
    for step in (["demo-data", "--out", str(data), "--train-rows", "800", "--test-rows", "100", "--no-images"],
                 ["folds", "--dataset", str(data / "dataset.yaml")]):
        if step[0] != "folds" or not (data / "folds.csv").exists():
            subprocess.run([*CLI, *step], check=True, capture_output=True)
    spec = data / "dataset.yaml"
    reference = {}
    for key, setting in SETTINGS.items():  # what each writer writes alone
        runs = work / f"alone_{key}"
        shutil.rmtree(runs, ignore_errors=True)
        assert cli(*run_command(spec, runs, setting)).returncode == 0
        reference[key] = pd.read_parquet(runs / "demo" / "tfidf_ridge" / "oof.parquet")
    base_runs = work / "alone_a"
    assert cli("run", "median_baseline", "--dataset", str(spec), "--runs-dir", str(base_runs)).returncode == 0
    blend_reference = {}
    for method in METHODS:
        out = work / f"blend_alone_{method}" / "out"
        shutil.rmtree(out.parent, ignore_errors=True)
        assert cli(*blend_command(spec, base_runs, method, out)).returncode == 0
        blend_reference[method] = pd.read_csv(out.parent / "submission.csv")

    outcomes = {"run: refused by the lock": 0, "run: refused by the config check": 0, "blend: refused": 0,
                "mixed folders": 0}
    started = time.perf_counter()
    for round_number in range(args.rounds):
        runs = work / f"race_{round_number}"
        shutil.rmtree(runs, ignore_errors=True)
        results = race([run_command(spec, runs, setting) for setting in SETTINGS.values()])
        winners = [key for key, result in zip(SETTINGS, results, strict=True) if result.returncode == 0]
        loser = next(r for r in results if r.returncode != 0) if len(winners) == 1 else None
        folder = runs / "demo" / "tfidf_ridge"
        if len(winners) != 1 or not reference[winners[0]].equals(pd.read_parquet(folder / "oof.parquet")):
            outcomes["mixed folders"] += 1
        elif "is writing here" in loser.stderr:
            outcomes["run: refused by the lock"] += 1
        else:
            outcomes["run: refused by the config check"] += 1
        out = runs / "blend" / "out"  # both blends read the same finished runs and write this one folder
        results = race([blend_command(spec, base_runs, method, out) for method in METHODS])
        outcomes["blend: refused"] += sum(r.returncode != 0 for r in results)
        report = (out / "report.md").read_text() if (out / "report.md").exists() else ""
        written = [m for m in METHODS if f"method: {m} (" in report]
        if len(written) != 1 or not pd.read_csv(out.parent / "submission.csv").equals(blend_reference[written[0]]):
            outcomes["mixed folders"] += 1
    seconds = time.perf_counter() - started
    print(f"{args.rounds} rounds in {seconds:.0f} s (work folder {work})")
    for outcome, count in outcomes.items():
        print(f"  {outcome}: {count}")
    return 1 if outcomes["mixed folders"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
