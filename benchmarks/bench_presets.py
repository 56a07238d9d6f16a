"""Wall time and honest score of ``catalog-ml fit --preset P`` for each preset on generated rows, each from cold
caches (a fresh runs and cache folder), beside TF-IDF + Ridge alone from the same fit.

    python benchmarks/bench_presets.py [--rows 5000] [--jobs 1] [--work-dir /tmp/bench_presets]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import time
from pathlib import Path

import pandas as pd
from common import machine_description

from catalog_ml.cli.main import main as catalog_ml
from catalog_ml.core.presets import PRESETS
from catalog_ml.data.demo_data import write_demo_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="generated training rows")
    parser.add_argument("--jobs", type=int, default=1, help="fold jobs side by side")
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_presets"))
    args = parser.parse_args(argv)
    spec = args.work_dir / "data" / "dataset.yaml"
    if not spec.is_file():
        write_demo_dataset(args.work_dir / "data", train_rows=args.rows, test_rows=500, seed=0, images=False,
                           progress=False)
        assert catalog_ml(["folds", "--dataset", str(spec)]) == 0
    rows = []
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        work = args.work_dir / preset
        shutil.rmtree(work, ignore_errors=True)
        printed = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(printed):
            assert catalog_ml(["fit", "--dataset", str(spec), "--preset", preset, "--jobs", str(args.jobs),
                               "--runs-dir", str(work / "runs"), "--cache-dir", str(work / "cache"),
                               "--submission", str(work / "submission.csv")]) == 0
        seconds = time.perf_counter() - started
        board = _leaderboard(printed.getvalue())
        blend = board[board["model"].str.startswith("blend")].iloc[0]
        ridge = board[board["model"] == "tfidf_ridge"].iloc[0]
        rows.append(f"| {preset} | {seconds:.0f} | {float(blend['smape']):.2f} ± {float(blend['standard_error']):.2f} "
                    f"| {float(ridge['smape']):.2f} |")
    print(f"machine: {machine_description()}; {args.rows:,} generated rows, 5 folds, --jobs {args.jobs}, cold caches\n")
    print("| preset | wall seconds | honest blend SMAPE ± SE | tfidf_ridge SMAPE |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0


def _leaderboard(printed: str) -> pd.DataFrame:
    lines = [line for line in printed.split("## leaderboard", 1)[1].splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    body = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return pd.DataFrame(body, columns=header)


if __name__ == "__main__":
    raise SystemExit(main())
