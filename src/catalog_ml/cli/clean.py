"""Clean training rows (never test rows) and write OUT/train.csv plus OUT/dataset.yaml, a spec that reads
the cleaned rows, the original test file and images, and has its own fold file: make folds for it after cleaning
(catalog-ml folds --dataset OUT/dataset.yaml). ``python data_cleaning/clean.py ARGS`` is the same as
``catalog-ml clean ARGS``."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import yaml

from catalog_ml.atomic import ensure_writable_dir, write_frame_atomic, write_text_atomic
from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.run_files import markdown_table
from catalog_ml.data.cleaning import OUTLIER_POLICIES, CleaningRules, clean_training_rows, report_table
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder for the cleaned dataset")
    parser.add_argument("--no-exact-duplicates", action="store_true", help="keep exact duplicate rows")
    parser.add_argument("--no-image-conflicts", action="store_true",
                        help="keep conflicting prices within same-image groups")
    parser.add_argument("--outliers", choices=OUTLIER_POLICIES, default="none",
                        help="log_iqr: drop rows whose log1p price is beyond K IQRs from the quartiles")
    parser.add_argument("--outlier-k", type=float, default=3.0)
    parser.add_argument("-v", "--verbose", action="store_true")


def handle(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args)
    spec = dataset.spec
    if spec.task != "regression":
        raise CatalogError(f"spec '{spec.name}': cleaning rules are defined for price regression")
    out = ensure_writable_dir(args.out).resolve()
    if out == spec.train_path.parent.resolve():
        raise CatalogError(f"{out}: write the cleaned dataset to another folder than the original")
    rules = CleaningRules(exact_duplicates=not args.no_exact_duplicates,
                          image_price_conflicts=not args.no_image_conflicts, outliers=args.outliers,
                          outlier_k=args.outlier_k)
    cleaned, reports = clean_training_rows(dataset.train, spec, rules)
    table = report_table(reports)
    write_frame_atomic(out / "train.csv", cleaned)
    write_frame_atomic(out / "cleaning_report.csv", table)
    cleaned_spec = dataclasses.replace(
        spec, name=f"{spec.name}_clean", root=str(out), train_file="train.csv",
        test_file=str(spec.test_path) if spec.test_path else None,
        image_dir=str(spec.image_path) if spec.image_path else None, folds_file="folds.csv",
        separator=",", drop_columns=(), drop_target_below=None, drop_missing_target=False)
    header = f"# Cleaned copy of '{spec.name}' ({len(dataset.train)} -> {len(cleaned)} training rows).\n"
    write_text_atomic(out / "dataset.yaml", header + yaml.safe_dump(cleaned_spec.to_dict(), sort_keys=False))
    print(markdown_table(table))
    print(f"\n{len(dataset.train)} -> {len(cleaned)} training rows; test rows untouched")
    print(f"cleaned dataset spec: {out / 'dataset.yaml'} (make its folds next)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the script: ``catalog-ml clean`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main as catalog_ml

    return catalog_ml(["clean", *(sys.argv[1:] if argv is None else argv)])
