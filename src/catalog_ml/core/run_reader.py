"""Read approach runs for the ensembler: outputs only (never approach code), checked against the dataset.

Refused with one clear line: runs on other folds, missing or extra ids, NaN or non-positive predictions, partial
runs, duplicated runs, corrupt or missing files, test ids that differ from the dataset's test file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.core.run_files import RunPaths, read_json, read_parquet_checked
from catalog_ml.core.task import Task, task_of
from catalog_ml.data.folds import Folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError


@dataclass(frozen=True)
class RunSet:
    """OOF and test predictions of several runs, aligned to the dataset's train and test row order."""

    names: tuple[str, ...]
    oof: np.ndarray          # (n_train, n_runs); classification: (n_train, n_runs, n_classes)
    test: np.ndarray | None  # (n_test, n_runs[, n_classes])
    y: np.ndarray            # prices, or class labels
    fold: np.ndarray
    train_ids: np.ndarray
    test_ids: np.ndarray | None


def discover_runs(runs_dir: Path, dataset_name: str) -> list[Path]:
    """Every run folder (with a config.json) under runs_dir/dataset_name, sorted by name."""
    root = Path(runs_dir) / dataset_name
    if not root.is_dir():
        raise CatalogError(f"{root}: no runs for dataset '{dataset_name}' (run an approach first)")
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_") and (p / "config.json")
                  .exists())


def load_run_set(dataset: Dataset, folds: Folds, run_dirs: list[Path], average_seeds: bool = False) -> RunSet:
    """Read and check every run; all problems are reported together. ``average_seeds`` first replaces the runs
    ``NAME-seedN`` of one approach by their mean (one column ``NAME-seeds``)."""
    if not run_dirs:
        raise CatalogError("no runs to blend")
    spec, task = dataset.spec, task_of(dataset)
    train_ids = dataset.train[spec.id_column].to_numpy(dtype=str)
    test_ids = dataset.test[spec.id_column].to_numpy(dtype=str) if dataset.test is not None else None
    problems: list[str] = []
    oofs, tests, names = [], [], []
    for run_dir in run_dirs:
        paths = RunPaths(Path(run_dir))
        try:
            _check_run(paths, spec.name, folds.hash, complete=True)
            oof = _aligned(task, paths.oof, train_ids, "training")
            test = _aligned(task, paths.test, test_ids, "test") if test_ids is not None else None
        except CatalogError as error:
            problems.extend(error.problems)
            continue
        names.append(Path(run_dir).name)
        oofs.append(oof)
        tests.append(test)
    if average_seeds:
        names, oofs, tests = average_seed_runs(names, oofs, tests)
    problems += _duplicates(names, oofs)
    if problems:
        raise CatalogError(*problems)
    return RunSet(names=tuple(names), oof=np.stack(oofs, axis=1),
                  test=np.stack(tests, axis=1) if test_ids is not None else None,
                  y=task.target(dataset.target), fold=folds.fold, train_ids=train_ids, test_ids=test_ids)


def read_run_test(dataset: Dataset, run_dir: Path, full: bool = False) -> np.ndarray:
    """One run's test predictions aligned to the dataset's test ids: the mean over its fold models (the run must be
    complete), or with ``full`` the model fitted on every training row (``run --fold -1``)."""
    spec = dataset.spec
    if dataset.test is None:
        raise CatalogError(f"spec '{spec.name}' names no test file")
    paths = RunPaths(Path(run_dir))
    config = _check_run(paths, spec.name, folds_hash=None, complete=not full)
    if full and not paths.test_full.is_file():
        raise CatalogError(f"{paths.root}: no full-fit predictions; run the approach with --fold -1 first")
    if config.get("folds", {}).get("hash") is None:
        raise CatalogError(f"{paths.config}: records no fold hash (not written by the runner)")
    source = paths.test_full if full else paths.test
    return _aligned(task_of(dataset), source, dataset.test[spec.id_column].to_numpy(dtype=str), "test")


def read_fold_tests(dataset: Dataset, run_dir: Path) -> dict[int, np.ndarray]:
    """Each finished fold model's test predictions of one run, aligned to the dataset's test ids."""
    spec = dataset.spec
    if dataset.test is None:
        raise CatalogError(f"spec '{spec.name}' names no test file")
    paths = RunPaths(Path(run_dir))
    config = _check_run(paths, spec.name, folds_hash=None, complete=False)
    test_ids = dataset.test[spec.id_column].to_numpy(dtype=str)
    task = task_of(dataset)
    return {k: _aligned(task, paths.part(k, "test"), test_ids, "test")
            for k in range(config.get("folds", {}).get("n_folds", 0)) if paths.part(k, "test").is_file()}


def average_seed_runs(names: list[str], oofs: list[np.ndarray], tests: list[np.ndarray | None]) -> tuple[
        list[str], list[np.ndarray], list[np.ndarray | None]]:
    """The runs ``NAME-seedN`` of one approach replaced by their mean (one entry ``NAME-seeds``), in first order."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        match = re.fullmatch(r"(.+)-seed\d+", name)
        groups.setdefault(f"{match.group(1)}-seeds" if match else name, []).append(i)

    def mean(parts: list[np.ndarray | None]) -> np.ndarray | None:
        return None if parts[0] is None else np.mean(parts, axis=0)

    return (list(groups), [mean([oofs[i] for i in idx]) for idx in groups.values()],
            [mean([tests[i] for i in idx]) for idx in groups.values()])


def _check_run(paths: RunPaths, dataset_name: str, folds_hash: str | None, complete: bool) -> dict:
    """The run's config, after checking that it was made for this dataset (and these folds, and is finished)."""
    root = paths.root
    if not paths.config.is_file():
        raise CatalogError(f"{root}: not a run folder (no {paths.config.name})")
    config = read_json(paths.config)
    if config.get("dataset", {}).get("name") != dataset_name:
        raise CatalogError(f"{root}: predictions for dataset '{config.get('dataset', {}).get('name')}', "
                           f"not '{dataset_name}'")
    run_hash = config.get("folds", {}).get("hash")
    if folds_hash is not None and run_hash != folds_hash:
        raise CatalogError(f"{root}: made on other folds (hash {run_hash}, the fold file has {folds_hash}); "
                           "re-run it on the current fold file")
    if complete:
        summary = read_json(paths.summary)
        if summary.get("status") != "complete":
            raise CatalogError(f"{root}: partial run (folds done: {summary.get('folds_done')}); finish it first")
    return config


def _aligned(task: Task, path: Path, ids: np.ndarray, part: str) -> np.ndarray:
    """The predictions of one output table, checked by the task, in the order of the dataset's ``ids``."""
    frame = read_parquet_checked(path)
    if "id" not in frame.columns:
        raise CatalogError(f"{path}: needs columns id and pred, found {', '.join(map(str, frame.columns))}")
    rows = _row_positions(frame, ids, str(path), part)
    return task.values(frame, str(path))[rows]


def _row_positions(frame: pd.DataFrame, ids: np.ndarray, source: str, part: str) -> np.ndarray:
    """Position in ``frame`` of each dataset id; a clear error for duplicated, missing or unknown ids."""
    frame_ids = frame["id"].astype(str)
    if frame_ids.duplicated().any():
        raise CatalogError(f"{source}: id {frame_ids[frame_ids.duplicated()].iloc[0]!r} appears twice")
    missing = ~pd.Index(ids).isin(frame_ids)
    extra = ~frame_ids.isin(ids)
    if missing.any() or extra.any():
        raise CatalogError(f"{source}: ids differ from the dataset's {part} ids ({int(missing.sum())} missing, "
                           f"{int(extra.sum())} unknown, e.g. "
                           f"{(ids[missing][:1].tolist() or frame_ids[extra][:1].tolist())[0]!r})")
    return pd.Index(frame_ids).get_indexer(ids)


def _duplicates(names: list[str], oofs: list[np.ndarray]) -> list[str]:
    problems = []
    for i in range(len(oofs)):
        for j in range(i + 1, len(oofs)):
            if np.array_equal(oofs[i], oofs[j]):
                problems.append(f"runs '{names[i]}' and '{names[j]}' have identical OOF predictions (duplicated "
                                "run); name only one of them with --runs")
    return problems
