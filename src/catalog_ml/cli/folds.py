"""Make the dataset's fold file, once: near-duplicate rows share a fold (group-aware), folds are stratified on
log-price bins (classification: on the class) and seeded. Every approach reads this file; its hash travels with
every output, and the ensembler refuses outputs made on other folds."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.run_files import markdown_table
from catalog_ml.data.folds import make_folds, metadata_path, write_folds
from catalog_ml.data.grouping import group_keys
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--n-folds", type=int, default=5, help="number of folds (default: 5)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the fold assignment (default: 42)")
    parser.add_argument("--bins", type=int, default=10, help="log-price quantile bins to stratify on (default: 10)")
    parser.add_argument("--no-image-groups", action="store_true", help="do not group rows with identical images")
    parser.add_argument("--force", action="store_true", help="replace an existing fold file (runs made on the old "
                                                            "folds will be refused by the ensembler)")


def handle(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args)
    path = dataset.spec.folds_path
    if path.exists() and not args.force:
        raise CatalogError(f"{path}: fold file exists; folds are made once per dataset (use --force to replace it)")
    table = make_folds(dataset, n_folds=args.n_folds, seed=args.seed, n_bins=args.bins,
                       use_images=not args.no_image_groups)
    keys = group_keys(dataset.spec, use_images=not args.no_image_groups)
    digest = write_folds(table, path, {"dataset": dataset.spec.name, "seed": args.seed, "bins": args.bins,
                                       "image_groups": not args.no_image_groups, "group_keys": keys})
    print(f"{len(table)} rows in {table['group'].nunique()} groups; rows share a group when they share "
          f"{' or '.join(keys)} (set group_columns in the spec to choose)\n")
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
