"""The whole pipeline on the generated demo catalogue: demo data, folds, each approach, the honest blend and a
validated submission, scored at the end on the hidden test labels the generator kept aside."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from catalog_ml.api.blending import run_blend
from catalog_ml.cli import demo_data
from catalog_ml.cli.common import progress_enabled
from catalog_ml.core.config import build_config
from catalog_ml.core.metrics import smape
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_files import markdown_table
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    demo_data.add_arguments(parser)
    parser.add_argument("--approaches", default="median_baseline,tfidf_ridge,lgbm_fusion",
                        help="comma-separated approaches (default: median_baseline,tfidf_ridge,lgbm_fusion)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="output root (default: runs)")
    parser.add_argument("--submissions-dir", type=Path, default=Path("submissions"),
                        help="where the submission goes (default: submissions)")


def handle(args: argparse.Namespace) -> int:
    spec = load_spec(demo_data.ensure_demo_data(args))
    dataset = load_dataset(spec, require_test=True)
    if not spec.folds_path.exists():
        table = make_folds(dataset)
        write_folds(table, spec.folds_path, {"dataset": spec.name, "seed": 42, "bins": 10, "image_groups": True})
    folds = load_folds(dataset)
    results = {}
    for name in [n.strip() for n in args.approaches.split(",") if n.strip()]:
        approach = get_approach(name)
        request = RunRequest(approach=approach, config=build_config(approach.Config), output_root=args.runs_dir,
                             progress=progress_enabled())
        results[name] = run_approach(dataset, request, folds)
        print(f"\n## {name}\n\n{markdown_table(results[name].scores)}")
    out = Path(args.submissions_dir) / "demo_blend.csv"
    print("\n## blend (auto)\n")
    run_blend(dataset, folds, [results[name].paths.root for name in results], "auto", {"n_trials": 100},
              Path(args.runs_dir) / spec.name / "_blend" / "auto", out)
    labels_path = spec.path("test_labels.csv")
    if labels_path.is_file():
        truth = pd.read_csv(labels_path, dtype={"sample_id": str}).set_index("sample_id")["price"]
        submitted = pd.read_csv(out, dtype={"sample_id": str}).set_index("sample_id")["price"]
        print(f"hidden test SMAPE of the submission: {smape(truth.loc[submitted.index], submitted):.3f}")
    return 0
