"""Throughput of ``catalog-ml predict``: the blend of the suite's CPU approaches, fitted on generated rows, applied
to a new generated table of ``--rows`` rows (75,000 by default) in a child process whose every approach's ``fit`` is
replaced by an error (so nothing is refitted), with a fresh embedding cache. Prints rows/s, the seconds per member
run, the model load time and the child's peak memory; and the disk and save time of the fold models.

    python benchmarks/bench_predict.py [--rows 75000] [--train-rows 5000] [--work-dir /tmp/bench_predict]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
from bench_suite import APPROACHES
from common import machine_description, run_bounded

from catalog_ml.cli.main import main as catalog_ml
from catalog_ml.data.demo_data import generate_rows, write_demo_dataset

# Runs in the child: every approach's fit raises, the blend is loaded and applied, each member timed.
CHILD = """
import json, sys, time
from pathlib import Path
from catalog_ml.api.predicting import LoadedBlend, prediction_table, read_new_table
from catalog_ml.core.registry import approach_names, get_approach
from catalog_ml.atomic import write_frame_atomic

def refuse_fit(self, train, valid=None):
    raise AssertionError(f"predict called {type(self).__name__}.fit")

for name in approach_names():
    get_approach(name).fit = refuse_fit
blend_dir, table, out, cache, report = sys.argv[1:6]
started = time.perf_counter()
loaded = LoadedBlend(Path(blend_dir), Path(cache))
figures = {"load_seconds": time.perf_counter() - started}
read = time.perf_counter()
frame = read_new_table(Path(table), loaded.spec)
figures["read_seconds"] = time.perf_counter() - read
columns = []
for run in loaded.runs:
    began = time.perf_counter()
    columns.append(run.predict(frame))
    figures[f"seconds:{run.name}"] = time.perf_counter() - began
import numpy as np
values = loaded.blender.predict(np.stack(columns, axis=1)) if loaded.blender is not None else columns[0]
write_frame_atomic(Path(out), prediction_table(loaded.spec, loaded.task, frame[loaded.spec.id_column].to_numpy(),
                                               values))
figures["total_seconds"] = time.perf_counter() - started
Path(report).write_text(json.dumps(figures))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=75_000, help="rows of the new table to predict")
    parser.add_argument("--train-rows", type=int, default=5_000, help="generated training rows the runs fit on")
    parser.add_argument("--approaches", default=",".join(APPROACHES), help="the blend's member approaches")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_predict"))
    args = parser.parse_args(argv)
    work = args.work_dir
    spec = work / "data" / "dataset.yaml"
    if not spec.is_file():
        write_demo_dataset(work / "data", train_rows=args.train_rows, test_rows=500, seed=0, images=False,
                           progress=False)
        assert catalog_ml(["folds", "--dataset", str(spec)]) == 0
    new_table = work / f"new_{args.rows}.csv"
    if not new_table.is_file():
        rows = generate_rows(args.rows, seed=12345)[["sample_id", "catalog_content", "image_link"]]
        rows.assign(sample_id=[f"new_{i}" for i in range(len(rows))]).to_csv(new_table, index=False)
    common = ["--dataset", str(spec), "--runs-dir", str(work / "runs"), "--cache-dir", str(work / "cache")]
    approaches = [a.strip() for a in args.approaches.split(",") if a.strip()]
    for name in approaches:
        began = time.perf_counter()
        assert catalog_ml(["run", name, *common]) == 0
        print(f"fitted {name} in {time.perf_counter() - began:.0f}s", file=sys.stderr)
    blend_dir = work / "runs" / "demo" / "_blend" / "auto"
    assert catalog_ml(["blend", *common[:4], "--submission", str(work / "submission.csv")]) == 0
    predict_cache = work / "predict_cache"
    shutil.rmtree(predict_cache, ignore_errors=True)
    report, out = work / "predict_figures.json", work / "predictions.parquet"
    with open(work / "predict.log", "w") as log:
        child = run_bounded([sys.executable, "-c", CHILD, str(blend_dir), str(new_table), str(out),
                             str(predict_cache), str(report)], None, log, env=None)
    if child.exit_code:
        print((work / "predict.log").read_text()[-3000:], file=sys.stderr)
        return 1
    figures = json.loads(report.read_text())
    predicted = len(pd.read_parquet(out))
    assert predicted == args.rows
    print(f"machine: {machine_description()}")
    print(f"blend of {', '.join(approaches)} fitted on {args.train_rows:,} generated rows (5 folds)")
    print(f"predict {predicted:,} new rows: {figures['total_seconds']:.1f} s = "
          f"{predicted / figures['total_seconds']:,.0f} rows/s; peak memory {child.peak_mb:,.0f} MB; "
          f"models loaded in {figures['load_seconds']:.1f} s; no fit called")
    print("\n| member run | seconds | rows/s |\n|---|---|---|")
    for key, seconds in figures.items():
        if key.startswith("seconds:"):
            print(f"| {key.split(':', 1)[1]} | {seconds:.1f} | {predicted / seconds:,.0f} |")
    print("\n| run | model MB per fold | save seconds per fold |\n|---|---|---|")
    for name in approaches:
        scores = pd.read_csv(work / "runs" / "demo" / name / "scores.csv")
        folds = scores[scores["fold"] != "all"]
        print(f"| {name} | {folds['model_mb'].mean():.1f} | {folds['save_seconds'].mean():.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
