"""Apply saved fold models and saved blends to a new table: no refitting, the same checks as the training data.

``LoadedRun`` averages a run's saved fold models (or uses its full-fit model); ``LoadedBlend`` applies every member
run and the blend's final blender. For the dataset's own test file both reproduce the run's and the blend's test
predictions.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from catalog_ml.blend.saved_blend import load_blender
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import get_approach
from catalog_ml.core.resources import available_threads, use_threads
from catalog_ml.core.run_files import BlendPaths, RunPaths, read_json
from catalog_ml.core.run_reader import average_seed_runs
from catalog_ml.core.saved_models import load_model, read_manifest
from catalog_ml.core.task import Task, task_named
from catalog_ml.data.folds import FULL_FIT_FOLD
from catalog_ml.data.loading import check_rows, prepare_table, read_table
from catalog_ml.data.spec import DatasetSpec, spec_from_mapping
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)


def read_new_table(source: Path | str | pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """A table to predict, read like the training data and checked against ``spec``: every input column present
    (missing ones refused), ids unique and safe, numeric columns numeric; other columns ignored and reported."""
    if isinstance(source, pd.DataFrame):
        where = "the table"
        frame = prepare_table(source.copy(), spec, where)
    else:
        where = str(source)
        frame = read_table(Path(source), spec)
    required = [spec.id_column, *spec.feature_columns]
    missing = [c for c in dict.fromkeys(required) if c not in frame.columns]
    if missing:
        raise CatalogError(f"{where}: missing column(s) {', '.join(map(repr, missing))} that the model reads "
                           f"(found: {', '.join(map(str, frame.columns[:8]))})")
    extra = [c for c in frame.columns if c not in required]
    if extra:
        log.info("%s: %d column(s) not read by the model ignored: %s", where, len(extra), ", ".join(extra[:8]))
    frame = frame[list(dict.fromkeys(required))].reset_index(drop=True)
    problems = check_rows(frame, spec, Path(where), has_target=False)
    if problems:
        raise CatalogError(*problems)
    return frame


def run_spec(config: dict[str, Any], source: Path, images: Path | None, fitted_images: str | None,
             warn: bool = True) -> DatasetSpec:
    """The spec a run was fitted with, reading images from ``images`` (else the folder it was fitted with)."""
    spec = spec_from_mapping(config["dataset"], source=str(source))
    folder = Path(images).resolve() if images is not None else (Path(fitted_images) if fitted_images else None)
    if images is not None and not folder.is_dir():
        raise CatalogError(f"--images {images}: folder not found")
    if warn and spec.image_column and (folder is None or not folder.is_dir()):
        log.warning("%s: no image folder (pass --images DIR): rows are predicted without their photos", source)
    return dataclasses.replace(spec, image_dir=str(folder) if folder is not None else None)


class LoadedRun:
    """A run's saved fold models, ready to predict: the mean over its cross-validation fold models (what the run's
    ``test.parquet`` holds) or, with ``full`` or when only it was fitted, the model fitted on every row."""

    def __init__(self, run_dir: Path | str, cache_dir: Path | None = None, images: Path | None = None,
                 full: bool = False, require_complete: bool = True, warn_images: bool = True) -> None:
        self.source = {"run_dir": Path(run_dir), "cache_dir": cache_dir, "images": images, "full": full,
                       "require_complete": require_complete}  # what a worker process loads it from
        paths = RunPaths(Path(run_dir))
        if not paths.config.is_file():
            raise CatalogError(f"{run_dir}: not a run folder (no {paths.config.name})")
        config = read_json(paths.config)
        self.name = paths.root.name
        self.approach: type[Approach] = get_approach(str(config.get("approach")))
        n_folds = int(config.get("folds", {}).get("n_folds", 0))
        done = [k for k in range(n_folds) if paths.fold_done(k)]
        if full or (not done and paths.fold_done(FULL_FIT_FOLD)):
            if not paths.fold_done(FULL_FIT_FOLD):
                raise CatalogError(f"{run_dir}: no full-fit model; run the approach with --fold -1 first")
            folds = [FULL_FIT_FOLD]
        elif require_complete and len(done) < n_folds:
            raise CatalogError(f"{run_dir}: partial run (folds done: {done} of {n_folds}); finish it first")
        else:
            folds = done
        if not folds:
            raise CatalogError(f"{run_dir}: no finished fold")
        manifests = [read_manifest(paths.model(k)) for k in folds]
        self.spec = run_spec(config, paths.config, images, manifests[0].get("image_folder"), warn_images)
        self.fold_hash = config.get("folds", {}).get("hash")
        stale = [k for k, m in zip(folds, manifests, strict=True) if m.get("fold_hash") != self.fold_hash]
        if stale:
            raise CatalogError(f"{run_dir}: the models of fold(s) {stale} were fitted on other folds than the run")
        self.folds = folds
        self.task: Task = task_named(self.spec.task, tuple(manifests[0].get("classes", ())))
        self.models = [load_model(paths.model(k), self.approach, self.spec, cache_dir) for k in folds]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Prices (n,) or class probabilities (n, classes) of a table read by ``read_new_table``. BLAS and OpenMP
        pools use this process's threads (``resources.available_threads``), as a fold job's do, so a prediction
        does not depend on the thread settings the process started with."""
        with threadpool_limits(limits=available_threads()):
            outputs = [self.task.checked(model.predict(frame), len(frame), f"run '{self.name}', fold {k}")
                       for k, model in zip(self.folds, self.models, strict=True)]
        return np.mean(outputs, axis=0)


class LoadedBlend:
    """A saved blend: its member runs and its final blender, ready to predict."""

    def __init__(self, blend_dir: Path | str, cache_dir: Path | None = None, images: Path | None = None) -> None:
        paths = BlendPaths(Path(blend_dir))
        manifest = read_manifest(paths.blender)
        beside = paths.root.resolve().parent.parent
        self.runs = [LoadedRun(_member_folder(name, stored, beside, paths.root), cache_dir, images, warn_images=i == 0)
                     for i, (name, stored) in enumerate(zip(manifest["runs"], manifest["run_folders"], strict=True))]
        other = [run.name for run in self.runs if run.fold_hash != manifest.get("fold_hash")]
        if other:
            raise CatalogError(f"{blend_dir}: member run(s) {', '.join(other)} were re-run on other folds since the "
                               "blend: blend again")
        self.spec, self.task = self.runs[0].spec, self.runs[0].task
        self.average_seeds = bool(manifest.get("average_seeds"))
        _, self.blender = load_blender(paths.blender, self.spec)
        self.method = manifest.get("final_method")

    def predict(self, frame: pd.DataFrame, jobs: int = 1) -> np.ndarray:
        """The blend of every member run's predictions of ``frame``; with ``jobs`` > 1 the member runs predict side
        by side in worker processes (threads / jobs each)."""
        names = [run.name for run in self.runs]
        columns = self._member_predictions(frame, jobs)
        if self.average_seeds:
            names, columns, _ = average_seed_runs(names, columns, [None] * len(columns))
        stacked = np.stack(columns, axis=1)
        return stacked[:, 0] if self.blender is None else self.blender.predict(stacked)


    def _member_predictions(self, frame: pd.DataFrame, jobs: int) -> list[np.ndarray]:
        if jobs < 1:
            raise CatalogError(f"--jobs {jobs}: expected at least 1 job")
        jobs = min(jobs, len(self.runs))
        if jobs == 1:
            return [run.predict(frame) for run in self.runs]
        context = multiprocessing.get_context("spawn")  # a forked copy of a process with BLAS threads can hang
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_predict_worker,
                                 initargs=(frame, max(1, available_threads() // jobs))) as pool:
            futures = [pool.submit(_predict_in_worker, run.source) for run in self.runs]
            return [future.result() for future in futures]


_WORKER: dict[str, Any] = {}


def _start_predict_worker(frame: pd.DataFrame, threads: int) -> None:
    """In each worker: the table (sent once) and its share of the threads."""
    use_threads(threads)
    _WORKER["frame"] = frame


def _predict_in_worker(source: dict[str, Any]) -> np.ndarray:
    return LoadedRun(**source, warn_images=False).predict(_WORKER["frame"])


def _member_folder(name: str, stored: str, beside: Path, blend_dir: Path) -> Path:
    """A member run beside a blend at its usual place (a copied or moved runs folder keeps working), else (a blend
    written with --out-dir) where the run was when blended."""
    candidate = beside / name if blend_dir.resolve().parent.name == "_blend" else Path(stored)
    if not (candidate / "config.json").is_file():
        raise CatalogError(f"{blend_dir}: member run '{name}' is missing ({candidate}): re-run it, or blend the runs "
                           "that exist again")
    return candidate


def prediction_table(spec: DatasetSpec, task: Task, ids: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Predictions with the spec's id column: the target column (price or label), and for classification one
    ``proba:<class>`` column per class."""
    table = pd.DataFrame({spec.id_column: ids, spec.target: task.submission_values(values)})
    if values.ndim == 2:
        for i, label in enumerate(getattr(task, "classes", ())):
            table[f"proba:{label}"] = values[:, i]
    return table
