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

from catalog_ml.classes import read_proba
from catalog_ml.errors import CatalogError
from catalog_ml.folds import Folds
from catalog_ml.loading import Dataset
from catalog_ml.outputs import RunPaths, read_json, read_parquet_checked


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
    spec = dataset.spec
    train_ids = dataset.train[spec.id_column].to_numpy(dtype=str)
    test_ids = dataset.test[spec.id_column].to_numpy(dtype=str) if dataset.test is not None else None
    problems: list[str] = []
    oofs, tests, names = [], [], []
    read_values = _reader(dataset)
    for run_dir in run_dirs:
        try:
            oof, test = _read_run(RunPaths(Path(run_dir)), spec.name, folds, train_ids, test_ids, read_values)
        except CatalogError as error:
            problems.extend(error.problems)
            continue
        names.append(Path(run_dir).name)
        oofs.append(oof)
        tests.append(test)
    if average_seeds:
        names, oofs, tests = _average_seed_runs(names, oofs, tests)
    problems += _duplicates(names, oofs)
    if problems:
        raise CatalogError(*problems)
    y = dataset.target.to_numpy(dtype=str if spec.task == "classification" else float)
    return RunSet(names=tuple(names), oof=np.stack(oofs, axis=1),
                  test=np.stack(tests, axis=1) if test_ids is not None else None,
                  y=y, fold=folds.fold, train_ids=train_ids, test_ids=test_ids)


def _reader(dataset: Dataset):  # noqa: ANN202
    """How one output table becomes an array aligned to the dataset's ids: prices, or class probabilities."""
    if dataset.spec.task != "classification":
        return _aligned

    def aligned_proba(frame: pd.DataFrame, ids: np.ndarray, source: str, part: str) -> np.ndarray:
        row = _row_positions(frame, ids, source, part)
        proba = read_proba(frame, dataset.classes, source)[row]
        bad = ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1)
        if bad.any():
            raise CatalogError(f"{source}: {int(bad.sum())} rows of NaN or negative probabilities "
                               f"(first id {ids[bad][0]!r})")
        return proba

    return aligned_proba


def _average_seed_runs(names: list[str], oofs: list[np.ndarray], tests: list[np.ndarray | None]) -> tuple[
        list[str], list[np.ndarray], list[np.ndarray | None]]:
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        match = re.fullmatch(r"(.+)-seed\d+", name)
        groups.setdefault(f"{match.group(1)}-seeds" if match else name, []).append(i)
    def mean(parts: list[np.ndarray | None]) -> np.ndarray | None:
        return None if parts[0] is None else np.mean(parts, axis=0)

    return (list(groups), [mean([oofs[i] for i in idx]) for idx in groups.values()],
            [mean([tests[i] for i in idx]) for idx in groups.values()])


def _read_run(paths: RunPaths, dataset_name: str, folds: Folds, train_ids: np.ndarray,
              test_ids: np.ndarray | None, read_values) -> tuple[np.ndarray, np.ndarray | None]:  # noqa: ANN001
    root = paths.root
    config = read_json(paths.config)
    if config.get("dataset", {}).get("name") != dataset_name:
        raise CatalogError(f"{root}: predictions for dataset '{config.get('dataset', {}).get('name')}', "
                           f"not '{dataset_name}'")
    run_hash = config.get("folds", {}).get("hash")
    if run_hash != folds.hash:
        raise CatalogError(f"{root}: made on other folds (hash {run_hash}, the fold file has {folds.hash}); "
                           "re-run it on the current fold file")
    summary = read_json(paths.summary)
    if summary.get("status") != "complete":
        raise CatalogError(f"{root}: partial run (folds done: {summary.get('folds_done')}); finish it first")
    oof = read_values(_read_table(paths.oof), train_ids, f"{paths.oof}", "training")
    test = read_values(_read_table(paths.test), test_ids, f"{paths.test}", "test") if test_ids is not None else None
    return oof, test


def _read_table(path: Path) -> pd.DataFrame:
    frame = read_parquet_checked(path)
    if not {"id", "pred"} <= set(frame.columns):
        raise CatalogError(f"{path}: needs columns id and pred, found {', '.join(frame.columns)}")
    return frame


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


def _aligned(frame: pd.DataFrame, ids: np.ndarray, source: str, part: str) -> np.ndarray:
    pred = frame["pred"].to_numpy(dtype=float)[_row_positions(frame, ids, source, part)]
    bad = ~np.isfinite(pred) | (pred <= 0)
    if bad.any():
        raise CatalogError(f"{source}: {int(bad.sum())} NaN, infinite or non-positive predictions "
                           f"(first id {ids[bad][0]!r})")
    return pred


def _duplicates(names: list[str], oofs: list[np.ndarray]) -> list[str]:
    problems = []
    for i in range(len(oofs)):
        for j in range(i + 1, len(oofs)):
            if np.array_equal(oofs[i], oofs[j]):
                problems.append(f"runs '{names[i]}' and '{names[j]}' have identical OOF predictions (duplicated "
                                "run); name only one of them with --runs")
    return problems
