"""Blend benchmark: 10 approaches x 75k rows (synthetic OOF predictions with correlated errors).

Prints, per method, the time of one fit on all rows and of the full nested evaluation, and the SMAPEs.
    python benchmarks/bench_blend.py [--rows 75000] [--approaches 10] [--trials 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from catalog_ml.blend.blenders import make_blender
from catalog_ml.blend.nested import evaluate_blend
from catalog_ml.core.metrics import smape


def synthetic_predictions(rows: int, approaches: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.exp(rng.normal(2.7, 1.0, rows))
    shared = rng.normal(0, 0.3, rows)
    noise = rng.uniform(0.2, 0.6, approaches)
    bias = rng.uniform(-0.05, 0.1, approaches)
    predictions = np.column_stack([y * np.exp(bias[j] + 0.6 * shared + rng.normal(0, noise[j], rows))
                                   for j in range(approaches)])
    return predictions, y, np.arange(rows) % 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=75_000)
    parser.add_argument("--approaches", type=int, default=10)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--skip-nested", action="store_true")
    args = parser.parse_args(argv)
    predictions, y, fold = synthetic_predictions(args.rows, args.approaches)
    names = tuple(f"a{j}" for j in range(args.approaches))
    best_single = min(smape(y, predictions[:, j]) for j in range(args.approaches))
    print(f"{args.rows} rows x {args.approaches} approaches; best single SMAPE {best_single:.3f}\n")
    print("| method | fit on all rows (s) | in-sample SMAPE | nested evaluation (s) | nested SMAPE |")
    print("|---|---|---|---|---|")
    methods = ["mean", "hill", "stack", "optuna"] + (["grid"] if args.approaches <= 4 else [])
    for method in methods:
        started = time.perf_counter()
        blender = make_blender(method, n_trials=args.trials).fit(predictions, y)
        fit_seconds = time.perf_counter() - started
        in_sample = smape(y, blender.predict(predictions))
        nested_seconds, nested = float("nan"), float("nan")
        if not args.skip_nested:
            started = time.perf_counter()
            nested = evaluate_blend(method, predictions, y, fold, names, {"n_trials": args.trials}).nested_score
            nested_seconds = time.perf_counter() - started
        print(f"| {method} | {fit_seconds:.2f} | {in_sample:.3f} | {nested_seconds:.1f} | {nested:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
