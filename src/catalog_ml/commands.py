"""Handlers of the ``catalog-ml`` sub-commands (argument parsing lives in cli.py)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.cli_blend import run_blend
from catalog_ml.cli_common import dataset_from_args, progress_enabled, spec_from_args
from catalog_ml.config import build_config
from catalog_ml.demo_data import write_demo_dataset
from catalog_ml.errors import CatalogError
from catalog_ml.folds import load_folds, make_folds, metadata_path, write_folds
from catalog_ml.loading import load_dataset, read_table
from catalog_ml.metrics import smape
from catalog_ml.outputs import RunPaths, markdown_table, read_json
from catalog_ml.registry import approach_names, get_approach
from catalog_ml.runner import RunRequest, run_approach
from catalog_ml.spec import DatasetSpec, builtin_spec_names, load_spec
from catalog_ml.submission import validate_submission_file, write_submission

log = logging.getLogger(__name__)


def list_command(args: argparse.Namespace) -> int:
    print("approaches:", ", ".join(approach_names()))
    print("built-in dataset specs:", ", ".join(builtin_spec_names()))
    return 0


def check_command(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args)
    spec = dataset.spec
    test_rows = len(dataset.test) if dataset.test is not None else "no"
    print(f"{spec.name}: OK: {len(dataset.train)} train rows, {test_rows} test rows, task {spec.task}, "
          f"metric {spec.metric}")
    if spec.task == "regression":
        print(f"target '{spec.target}': {dataset.target.describe().round(3).to_dict()}")
    if dataset.dropped_low_target:
        print(f"dropped {dataset.dropped_low_target} training rows as the spec asks "
              "(drop_target_below, drop_missing_target)")
    return 0


def folds_command(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args)
    path = dataset.spec.folds_path
    if path.exists() and not args.force:
        raise CatalogError(f"{path}: fold file exists; folds are made once per dataset (use --force to replace it)")
    table = make_folds(dataset, n_folds=args.n_folds, seed=args.seed, n_bins=args.bins,
                       use_images=not args.no_image_groups)
    digest = write_folds(table, path, {"dataset": dataset.spec.name, "seed": args.seed, "bins": args.bins,
                                       "image_groups": not args.no_image_groups})
    print(fold_summary(table, dataset.target.to_numpy()))
    print(f"\nfold file {path} (hash {digest}); metadata in {metadata_path(path)}")
    return 0


def fold_summary(table: pd.DataFrame, target: np.ndarray) -> str:
    """Rows, groups and the target's median (classes: the number of classes present) per fold, as markdown."""
    frame = pd.DataFrame({"fold": table["fold"], "group": table["group"], "target": target})
    numeric = pd.api.types.is_numeric_dtype(frame["target"])
    target_column = ("median_target", ("target", "median")) if numeric else ("classes", ("target", "nunique"))
    summary = frame.groupby("fold").agg(rows=("target", "size"), groups=("group", "nunique"),
                                        **dict([target_column])).reset_index()
    return markdown_table(summary, float_format="{:.3f}")


def submit_command(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    paths = RunPaths(Path(args.run))
    out = args.out or Path("submissions") / f"{spec.name}_{paths.root.name}{'_full' if args.full else ''}.csv"
    write_run_submission(spec, paths=paths, out=out, full=args.full)
    print(f"submission written: {out}")
    return 0


def write_run_submission(spec: DatasetSpec, paths: RunPaths, out: Path, full: bool) -> Path:
    """Validate a run's test predictions against the dataset's test file and write them as a submission."""
    summary = read_json(paths.summary)
    if not full and summary.get("status") != "complete":
        raise CatalogError(f"{paths.root}: run is partial (folds done: {summary.get('folds_done')}); finish it first")
    source = paths.test_full if full else paths.test
    if not source.is_file():
        raise CatalogError(f"{source}: no test predictions in this run")
    if spec.test_path is None:
        raise CatalogError(f"spec '{spec.name}' names no test file")
    test = read_table(spec.test_path, spec)
    predictions = pd.read_parquet(source)
    return write_submission(predictions["id"].to_numpy(), predictions["pred"].to_numpy(), out,
                            test[spec.id_column].to_numpy(dtype=str), spec.id_column, spec.target)


def validate_submission_command(args: argparse.Namespace) -> int:
    spec = load_spec(args.dataset, root=args.data_root)
    test_path = args.test or spec.test_path
    if test_path is None:
        raise CatalogError(f"spec '{spec.name}' names no test file; pass --test")
    test = read_table(Path(test_path), spec)
    problems = validate_submission_file(args.file, test[spec.id_column].to_numpy(dtype=str), spec.id_column,
                                        spec.target)
    if problems:
        raise CatalogError(*problems)
    print(f"{args.file}: valid ({len(test)} rows, header {spec.id_column},{spec.target})")
    return 0


def demo_data_command(args: argparse.Namespace) -> int:
    spec_path = _ensure_demo_data(args)
    print(f"demo dataset spec: {spec_path}")
    return 0


def _ensure_demo_data(args: argparse.Namespace) -> Path:
    spec_path = Path(args.out) / "dataset.yaml"
    if spec_path.exists() and not args.regenerate:
        log.info("demo data exists in %s (use --regenerate to rewrite it)", args.out)
        return spec_path
    for name in ("folds.csv", "folds.json"):
        (Path(args.out) / name).unlink(missing_ok=True)
    return write_demo_dataset(args.out, args.train_rows, args.test_rows, seed=args.seed, images=not args.no_images,
                              progress=progress_enabled())


def demo_command(args: argparse.Namespace) -> int:
    """Demo data -> folds -> each approach -> best run by CV -> validated submission, scored on hidden labels."""
    spec_path = _ensure_demo_data(args)
    spec = load_spec(spec_path)
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
