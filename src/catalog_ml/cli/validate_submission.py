"""Check any submission file against a test file: the header, every test id exactly once, valid predictions."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_ml.data.loading import load_dataset, read_table
from catalog_ml.data.spec import load_spec
from catalog_ml.data.submission import validate_submission_file
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the submission CSV")
    parser.add_argument("--dataset", default="amazon2025", help="spec naming the test file and columns")
    parser.add_argument("--data-root", type=Path, default=None, help="folder holding the spec's files")
    parser.add_argument("--test", type=Path, default=None, help="test CSV (overrides the spec's test file)")


def handle(args: argparse.Namespace) -> int:
    spec = load_spec(args.dataset, root=args.data_root)
    test_path = args.test or spec.test_path
    if test_path is None:
        raise CatalogError(f"spec '{spec.name}' names no test file; pass --test")
    test = read_table(Path(test_path), spec)
    classes = load_dataset(spec).classes if spec.task == "classification" else None
    problems = validate_submission_file(args.file, test[spec.id_column].to_numpy(dtype=str), spec.id_column,
                                        spec.target, classes)
    if problems:
        raise CatalogError(*problems)
    print(f"{args.file}: valid ({len(test)} rows, header {spec.id_column},{spec.target})")
    return 0
