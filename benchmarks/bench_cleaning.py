"""CV effect of each cleaning rule, measured honestly.

Cleaning is fitted inside each fold (on the fold's training rows only) and every score is taken on the original,
uncleaned validation rows, so a rule cannot look good by editing the rows it is scored on. Model: tfidf_ridge.
    python benchmarks/bench_cleaning.py [--datasets demo,amazon_items1000,mercari5k,flipkart1050]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np
from common import real_dataset

from catalog_ml.core.approach import FitContext
from catalog_ml.core.config import build_config
from catalog_ml.core.metrics import smape
from catalog_ml.core.registry import get_approach
from catalog_ml.core.seeding import fold_seed
from catalog_ml.data.cleaning import CleaningRules, clean_training_rows, image_keys
from catalog_ml.data.demo_data import write_demo_dataset
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec

CONFIGS = {
    "none": CleaningRules(False, False, "none"),
    "exact_duplicates": CleaningRules(True, False, "none"),
    "outliers_log_iqr": CleaningRules(False, False, "log_iqr"),
    "image_price_conflicts": CleaningRules(False, True, "none"),
    "all": CleaningRules(True, True, "log_iqr"),
}


def demo_dataset(work_dir: Path):
    spec_path = work_dir / "demo" / "dataset.yaml"
    if not spec_path.exists():
        write_demo_dataset(spec_path.parent, 3000, 1000, progress=False)
    dataset = load_dataset(load_spec(spec_path))
    if not dataset.spec.folds_path.exists():
        write_folds(make_folds(dataset), dataset.spec.folds_path, {"seed": 42})
    return dataset


def honest_scores(dataset) -> dict[str, float]:
    approach = get_approach("tfidf_ridge")
    config = build_config(approach.Config)
    folds = load_folds(dataset)
    keys = image_keys(dataset.train, dataset.spec) if dataset.spec.image_column else None
    y = dataset.target.to_numpy()
    scores = {}
    for name, rules in CONFIGS.items():
        if rules.image_price_conflicts and keys is None:
            continue
        pred = np.empty(len(y))
        for k in range(folds.n_folds):
            train = dataset.train.loc[folds.train_mask(k)]
            cleaned, _ = clean_training_rows(train, dataset.spec, rules, keys)
            context = FitContext(dataset.spec, fold_seed(42, k), k, Path("cache"), logging.getLogger("bench"))
            model = approach(config, context)
            model.fit(cleaned.reset_index(drop=True))
            valid = folds.valid_mask(k)
            pred[valid] = model.predict(dataset.train.loc[valid].reset_index(drop=True))
        scores[name] = smape(y, pred)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="demo,amazon_items1000,mercari5k,flipkart1050")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench_clean")
    args = parser.parse_args(argv)
    print("| dataset | rule | 5-fold SMAPE on uncleaned validation rows | change vs none |\n|---|---|---|---|")
    for name in args.datasets.split(","):
        dataset = demo_dataset(args.work_dir) if name == "demo" else real_dataset(name, args.work_dir)
        if dataset is None:
            print(f"| {name} | skipped: data absent | | |")
            continue
        scores = honest_scores(dataset)
        for rule, score in scores.items():
            print(f"| {name} | {rule} | {score:.3f} | {score - scores['none']:+.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
