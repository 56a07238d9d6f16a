"""MLflow tracking overhead per approach run (target: under 2 s).

Runs ``catalog-ml run NAME`` on the generated demo catalogue with and without ``--tracking-uri`` (a fresh local
SQLite store), several times each, in fresh processes, and prints the median wall times and their difference.
    python benchmarks/bench_tracking.py [--approach median_baseline] [--repeats 3] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalog_ml.data.demo_data import write_demo_dataset
from catalog_ml.data.folds import make_folds, write_folds
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


def timed_run(spec: Path, approach: str, runs_dir: Path, extra: list[str]) -> float:
    env = {**os.environ, "CATALOG_ML_NO_PROGRESS": "1", "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "catalog_ml.cli.main", "run", approach, "--dataset", str(spec), "--runs-dir",
                    str(runs_dir), "--overwrite", *extra], check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--approach", default="median_baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench_tracking")
    args = parser.parse_args(argv)
    spec = args.work_dir / "demo" / "dataset.yaml"
    if not spec.exists():
        write_demo_dataset(spec.parent, train_rows=3000, test_rows=1000, seed=0, progress=False, images=False)
        dataset = load_dataset(load_spec(spec))
        write_folds(make_folds(dataset, n_folds=5, seed=0), dataset.spec.folds_path, {"seed": 0})
    store = f"sqlite:///{args.work_dir / 'store' / 'mlflow.db'}"
    timed_run(spec, args.approach, args.work_dir / "runs", ["--tracking-uri", store])  # creates the store once
    plain, tracked = [], []
    for _ in range(args.repeats):
        plain.append(timed_run(spec, args.approach, args.work_dir / "runs", []))
        tracked.append(timed_run(spec, args.approach, args.work_dir / "runs", ["--tracking-uri", store]))
    print(f"{args.approach} on 3,000 demo rows, median of {args.repeats}: untracked {statistics.median(plain):.2f} s, "
          f"tracked {statistics.median(tracked):.2f} s, overhead "
          f"{statistics.median(tracked) - statistics.median(plain):+.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
