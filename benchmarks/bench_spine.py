"""Spine benchmark: fresh clone to finished `make demo`, and tfidf_ridge 5-fold CV on real data.

    python benchmarks/bench_spine.py                 # everything
    python benchmarks/bench_spine.py --skip-clone    # only the real-data CV runs
Each dataset runs in its own process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("amazon_items1000", "myntra_styles")


def time_fresh_clone() -> dict[str, float]:
    """Clone the committed repository into a temporary folder and time `make install`, then `make demo`."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        env = {**os.environ, "CATALOG_ML_NO_PROGRESS": "1"}
        timings = {}
        for target in ("install", "demo"):
            started = time.perf_counter()
            result = subprocess.run(["make", target], cwd=clone, env=env, capture_output=True, text=True)
            timings[f"make_{target}_seconds"] = time.perf_counter() - started
            if result.returncode != 0:
                raise SystemExit(f"make {target} failed:\n{result.stderr[-3000:]}")
        last_lines = [line for line in result.stdout.splitlines() if "SMAPE" in line]
        print("\n".join(last_lines))
        return timings


def run_one(name: str, work_dir: Path) -> dict:
    """tfidf_ridge 5-fold CV on one real dataset (called in a child process)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import peak_memory_mb, real_dataset

    from catalog_ml.core.config import build_config
    from catalog_ml.core.registry import get_approach
    from catalog_ml.core.runner import RunRequest, run_approach

    started = time.perf_counter()
    dataset = real_dataset(name, work_dir)
    if dataset is None:
        return {"dataset": name, "skipped": True}
    approach = get_approach("tfidf_ridge")
    result = run_approach(dataset, RunRequest(approach=approach, config=build_config(approach.Config),
                                              output_root=work_dir / "runs", overwrite=True, progress=False))
    overall = result.scores.iloc[-1]
    return {"dataset": name, "rows": int(overall["rows"]), "smape": round(float(overall["smape"]), 3),
            "wall_seconds": round(time.perf_counter() - started, 1), "peak_memory_mb": round(peak_memory_mb())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-clone", action="store_true", help="skip the fresh-clone make demo timing")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.work_dir)))
        return 0
    if not args.skip_clone:
        for key, value in time_fresh_clone().items():
            print(f"{key}: {value:.1f}")
    print("| dataset | rows | tfidf_ridge 5-fold SMAPE | wall s | peak MB |\n|---|---|---|---|---|")
    for name in DATASETS:
        child = subprocess.run([sys.executable, __file__, "--one", name, "--work-dir", str(args.work_dir)],
                               capture_output=True, text=True)
        if child.returncode != 0:
            print(f"| {name} | failed: {child.stderr.strip().splitlines()[-1:]} | | | |")
            continue
        row = json.loads(child.stdout.strip().splitlines()[-1])
        if row.get("skipped"):
            print(f"| {name} | skipped (data absent) | | | |")
        else:
            print(f"| {name} | {row['rows']} | {row['smape']} | {row['wall_seconds']} | {row['peak_memory_mb']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
