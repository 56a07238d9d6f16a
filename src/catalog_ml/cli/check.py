"""Load a dataset's train and test tables, validate them against the spec and print a summary."""

from __future__ import annotations

import argparse

from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)


def handle(args: argparse.Namespace) -> int:
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
