"""Honest blend vs best single approach on the real datasets in ../shared/data (skipped when absent).

Runs median_baseline, tfidf_ridge and a word-only tfidf_ridge on shared 5-fold group-aware folds, then blends them
with --method auto. Prints the best single approach, the nested (honest) blend score, the in-sample (optimistic)
score and the gap between the two. Runs resume: an interrupted benchmark continues where it stopped.
    python benchmarks/bench_blend_real.py [--datasets amazon_items1000,mercari5k] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import real_dataset

from catalog_ml.blend.nested import evaluate_blend
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_reader import load_run_set
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.folds import load_folds

DATASETS = ("amazon_items1000", "flipkart1050", "mercari5k", "books", "bigbasket", "myntra_styles")
RUNS = (("median_baseline", None, []), ("tfidf_ridge", None, []), ("tfidf_ridge", "word", ["char_max_features=0"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench")
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args(argv)
    print("| dataset | rows | best single | its SMAPE | honest blend (nested) | in-sample (optimistic) | gap | "
          "final method | wall s |\n|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        started = time.perf_counter()
        dataset = real_dataset(name, args.work_dir)
        if dataset is None:
            print(f"| {name} | skipped: data absent | | | | | | | |")
            continue
        run_dirs = []
        for approach_name, tag, overrides in RUNS:
            approach = get_approach(approach_name)
            request = RunRequest(approach=approach, config=build_config(approach.Config, overrides=overrides),
                                 output_root=args.work_dir / "blend_runs", tag=tag, progress=False)
            run_dirs.append(run_approach(dataset, request).paths.root)
        runs = load_run_set(dataset, load_folds(dataset), run_dirs)
        evaluation = evaluate_blend("auto", runs.oof, runs.y, runs.fold, runs.names, {"n_trials": args.trials})
        overall = evaluation.fold_scores.iloc[-1]
        best = min(runs.names, key=lambda n: float(overall[n]))
        gap = evaluation.nested_score - evaluation.in_sample_score
        print(f"| {name} | {len(runs.y)} | {best} | {float(overall[best]):.3f} | {evaluation.nested_score:.3f} | "
              f"{evaluation.in_sample_score:.3f} | {gap:+.3f} | {evaluation.final_method} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
