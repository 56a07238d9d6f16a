"""Write a validated submission from one run's test predictions: the mean over its fold models, or with
``--full`` the model fitted on every training row (``catalog-ml run NAME --fold -1``). Classification runs give
the predicted label of each row."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.run_reader import read_run_test
from catalog_ml.core.task import task_of
from catalog_ml.data.loading import Dataset
from catalog_ml.data.submission import write_submission
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--run", required=True, help="a run's name (as under RUNS_DIR/DATASET) or its folder")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="output root (default: runs)")
    parser.add_argument("--out", type=Path, default=None, help="default: submissions/DATASET_RUN.csv")
    parser.add_argument("--full", action="store_true", help="use the fold -1 model (fitted on all rows)")


def handle(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args, require_test=True)
    run_dir = run_folder(args.run, args.runs_dir, dataset.spec.name)
    out = args.out or Path("submissions") / f"{dataset.spec.name}_{run_dir.name}{'_full' if args.full else ''}.csv"
    write_run_submission(dataset, run_dir, out, full=args.full)
    print(f"submission written: {out}")
    return 0


def run_folder(run: str, runs_dir: Path, dataset_name: str) -> Path:
    """``run`` as a folder path, or as a run name under RUNS_DIR/DATASET."""
    if Path(run).is_dir():
        return Path(run)
    named = Path(runs_dir) / dataset_name / check_name(run, "--run")
    if named.is_dir():
        return named
    raise CatalogError(f"--run {run}: neither a folder nor a run under {Path(runs_dir) / dataset_name}")


def write_run_submission(dataset: Dataset, run_dir: Path, out: Path, full: bool) -> Path:
    """A run's test predictions, read through the checked run reader, written as a validated submission."""
    spec, task = dataset.spec, task_of(dataset)
    predictions = read_run_test(dataset, run_dir, full=full)
    test_ids = dataset.test[spec.id_column].to_numpy(dtype=str)
    return write_submission(test_ids, task.submission_values(predictions), out, test_ids, spec.id_column,
                            spec.target, classes=dataset.classes or None)
