"""Active learning: rank the rows of the dataset's test file (the unlabelled pool; point a spec's
test_file at any new table and run the approaches on it) by the disagreement between approaches and fold models
(classification: the uncertainty of their mean probabilities), then pick a diverse batch, each pick discounting
rows similar to those already picked. Writes the batch as a CSV to send for labelling."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.blend.active_learning import (
    classification_uncertainty,
    disagreement,
    diverse_batch,
    member_test_predictions,
)
from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.registry import BASELINE_APPROACH
from catalog_ml.core.run_reader import discover_runs, load_run_set
from catalog_ml.data.classes import predicted_labels
from catalog_ml.data.folds import load_folds
from catalog_ml.errors import CatalogError
from catalog_ml.features.text import joined_text
from catalog_ml.folders import check_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--runs", default=None,
                        help="comma-separated run names (default: every run but the median baseline)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--batch", type=int, default=100, help="rows to pick")
    parser.add_argument("--uncertainty", choices=["entropy", "margin"], default="entropy",
                        help="classification: entropy of the runs' mean class probabilities, or 1 - the margin "
                             "between the two most likely classes")
    parser.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_labels/batch.csv")


def handle(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args)
    spec = dataset.spec
    if dataset.test is None:
        raise CatalogError(f"{spec.name}: the spec names no test file, so there is no unlabelled pool to rank")
    if args.batch <= 0:
        raise CatalogError("--batch must be a positive number of rows")
    available = discover_runs(args.runs_dir, spec.name)
    if args.runs:
        run_dirs = [args.runs_dir / spec.name / check_name(n.strip(), "run name") for n in args.runs.split(",")]
    else:  # a constant baseline never disagrees: it would only dilute the committee
        run_dirs = [p for p in available if not p.name.startswith(BASELINE_APPROACH)]
        if len(run_dirs) < len(available):
            print(f"{BASELINE_APPROACH} left out of the committee (name it in --runs to include it)")
    ids = dataset.test[spec.id_column].astype(str).to_numpy()
    if spec.task == "classification":
        proba = load_run_set(dataset, load_folds(dataset), run_dirs).test.mean(axis=1)
        scores = classification_uncertainty(proba, args.uncertainty)
        what, source = args.uncertainty, f"the mean class probabilities of {len(run_dirs)} runs"
    else:
        members, names = member_test_predictions(dataset, run_dirs)
        scores = disagreement(members)
        runs = f"{len(run_dirs)} run" + ("s" if len(run_dirs) != 1 else "")
        what, source = "disagreement", f"{len(names)} fold models of {runs}"
    texts = joined_text(dataset.test, spec, 300)
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), min_df=1, sublinear_tf=True,
                              dtype=np.float32).fit_transform(texts)
    picked = diverse_batch(scores, vectors, args.batch)
    batch = pd.DataFrame({"rank": np.arange(1, len(picked) + 1), "id": ids[picked], what: scores[picked]})
    if spec.task == "classification":
        batch["predicted_class"] = predicted_labels(proba[picked], dataset.classes)
    else:
        batch["median_prediction"] = np.expm1(np.median(members[picked], axis=1))
    out = args.out or args.runs_dir / spec.name / "_labels" / "batch.csv"
    write_frame_atomic(out, batch)
    print(f"{len(batch)} of {len(ids)} pool rows picked from {source}: {out}")
    print(f"{what}: picked mean {batch[what].mean():.3f}, pool mean {scores.mean():.3f}")
    return 0
