"""The runner: owns folds, seeds, timing, logging, progress, output files and resuming.

A re-run skips finished folds; since each fold is seeded from (seed, fold) alone, a resumed run gives the same
result as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from catalog_ml import __version__
from catalog_ml.atomic import ensure_writable_dir, write_frame_atomic, write_json_atomic
from catalog_ml.core.approach import Approach, FitContext
from catalog_ml.core.class_report import write_class_report
from catalog_ml.core.config import config_to_dict
from catalog_ml.core.resources import available_threads, use_threads
from catalog_ml.core.run_files import (
    RunPaths,
    fold_label,
    read_fold_score,
    read_json,
    write_fold_part,
    write_score_tables,
)
from catalog_ml.core.saved_models import SavedModel, encode_model, write_model
from catalog_ml.core.seeding import fold_seed, seed_everything
from catalog_ml.core.task import ClassificationTask, task_of
from catalog_ml.core.uncertainty import ScoreUncertainty, score_uncertainty
from catalog_ml.data.folds import FULL_FIT_FOLD, Folds, load_folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name, clear_folder_inside, exclusive_writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRequest:
    """One approach run: which approach and settings, which folds, where outputs go."""

    approach: type[Approach]
    config: Any
    output_root: Path = Path("runs")
    seed: int = 42
    folds: tuple[int, ...] | None = None
    tag: str | None = None
    overwrite: bool = False
    cache_dir: Path = Path("cache")
    progress: bool = True
    jobs: int = 1  # folds fitted side by side, each in its own process with threads / jobs
    wait: bool = False  # another process writing the same run folder: wait for it instead of refusing
    save_models: bool | None = None  # keep each fold's fitted model (None: the approach's default)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_name(self) -> str:
        return f"{self.approach.name}-{self.tag}" if self.tag else self.approach.name

    @property
    def saves_models(self) -> bool:
        return self.approach.saves_models if self.save_models is None else self.save_models


@dataclass(frozen=True)
class RunResult:
    """What a finished run call produced."""

    paths: RunPaths
    scores: pd.DataFrame
    complete: bool
    skipped_folds: tuple[int, ...]
    uncertainty: ScoreUncertainty | None = None  # the complete run's CV score with its standard error


def run_approach(dataset: Dataset, request: RunRequest, folds: Folds | None = None) -> RunResult:
    """Fit and predict the requested folds (skipping finished ones), then assemble OOF, test and score tables."""
    spec = dataset.spec
    if spec.task not in request.approach.tasks:
        raise CatalogError(f"approach '{request.approach.name}' does not support task '{spec.task}'")
    if request.jobs < 1:
        raise CatalogError(f"--jobs {request.jobs}: expected at least 1 job")
    folds = folds or load_folds(dataset)
    wanted = _folds_to_run(request.folds, folds.n_folds)
    root = Path(request.output_root) / check_name(spec.name, "dataset name") / check_name(request.run_name,
                                                                                           "run name")
    if not is_main_process():  # the other torchrun ranks train beside rank 0, which holds the lock and writes
        return _run_folds(dataset, folds, request, RunPaths(ensure_writable_dir(root)), wanted)
    with exclusive_writer(root, wait=request.wait):
        paths = RunPaths(root)
        _prepare_run_folder(paths, _effective_config(dataset, request, folds), request.overwrite,
                            Path(request.output_root))
        return _run_folds(dataset, folds, request, paths, wanted)


def _run_folds(dataset: Dataset, folds: Folds, request: RunRequest, paths: RunPaths, wanted: list[int]
               ) -> RunResult:
    handler = _attach_log_file(paths)
    skipped = [k for k in wanted if paths.fold_done(k)]
    for k in skipped:
        log.info("fold %s already finished: skipped", k)
    pending = [k for k in wanted if k not in skipped]
    try:
        if request.jobs > 1 and len(pending) > 1:
            outputs = _parallel_fold_outputs(dataset, folds, request, paths, pending)
        else:
            outputs = (fold_output(dataset, folds, request, k, _work_dir(paths, k)) for k in pending)
        for output in tqdm(outputs, total=len(pending), desc=f"{request.run_name} folds",
                           disable=not request.progress, leave=False):
            if is_main_process():
                _write_fold(paths, output, dataset.spec.metric)
        scores, complete, uncertainty = (_assemble(dataset, folds, paths) if is_main_process()
                                         else (pd.DataFrame(), False, None))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    return RunResult(paths=paths, scores=scores, complete=complete, skipped_folds=tuple(skipped),
                     uncertainty=uncertainty)


def is_main_process() -> bool:
    """False in the other ranks of a ``torchrun`` launch: only rank 0 writes run files."""
    return os.environ.get("RANK", "0") == "0"


def _folds_to_run(requested: tuple[int, ...] | None, n_folds: int) -> list[int]:
    if requested is None:
        return list(range(n_folds))
    bad = [k for k in requested if k != FULL_FIT_FOLD and not 0 <= k < n_folds]
    if bad:
        raise CatalogError(f"fold(s) {bad} do not exist: the fold file has folds 0..{n_folds - 1} (and -1 = all rows)")
    return sorted(set(requested), key=lambda k: (k == FULL_FIT_FOLD, k))


def _effective_config(dataset: Dataset, request: RunRequest, folds: Folds) -> dict[str, Any]:
    return {
        "approach": request.approach.name,
        "settings": config_to_dict(request.config),
        "dataset": dataset.spec.to_dict(),
        "seed": request.seed,
        "folds": {"hash": folds.hash, "n_folds": folds.n_folds, "file": str(folds.path)},
        "catalog_ml_version": __version__,
        **request.extra,
    }


_IDENTITY_KEYS = ("approach", "settings", "dataset", "seed", "folds")


def _prepare_run_folder(paths: RunPaths, effective: dict[str, Any], overwrite: bool, output_root: Path) -> None:
    """Check the folder's earlier config against this one and write it: atomic, since the caller holds the lock."""
    if paths.config.exists() and overwrite:
        clear_folder_inside(paths.root, output_root)
    if paths.config.exists():
        previous = read_json(paths.config)
        differences = [key for key in _IDENTITY_KEYS if previous.get(key) != _jsonable(effective.get(key))]
        if differences:
            raise CatalogError(
                f"{paths.root}: holds a run with a different {', '.join(differences)}; "
                "pass --overwrite to discard it or --tag NAME to keep both"
            )
    write_json_atomic(paths.config, effective)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _attach_log_file(paths: RunPaths) -> logging.Handler:
    if not is_main_process():
        return logging.NullHandler()
    handler = logging.FileHandler(paths.log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


@dataclass(frozen=True)
class FittedFold:
    """One fold's fitted model with the rows it was fitted on and the rows it is scored on (None for fold -1)."""

    model: Approach
    train: pd.DataFrame
    valid: pd.DataFrame | None
    fit_seconds: float


def fit_fold(dataset: Dataset, folds: Folds, request: RunRequest, k: int, work_dir: Path | None = None
             ) -> FittedFold:
    """The one place a fold's model is fitted: the fold's rows, its seed (from the run seed and ``k`` alone) and
    the approach's context. The runner and ``explain`` both fit through here."""
    train = dataset.train.loc[folds.train_mask(k)].reset_index(drop=True)
    valid = dataset.train.loc[folds.valid_mask(k)].reset_index(drop=True) if k != FULL_FIT_FOLD else None
    seed = fold_seed(request.seed, k)
    seed_everything(seed)
    context = FitContext(spec=dataset.spec, seed=seed, fold=k, cache_dir=Path(request.cache_dir),
                         logger=logging.getLogger(f"catalog_ml.approach.{request.approach.name}"),
                         work_dir=work_dir, classes=dataset.classes)
    model = request.approach(request.config, context)
    started = time.perf_counter()
    model.fit(train, valid)
    return FittedFold(model=model, train=train, valid=valid, fit_seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class FoldOutput:
    """What one fold produced: its OOF rows (None for fold -1), test predictions, score row and saved model."""

    k: int
    oof: pd.DataFrame | None
    test: pd.DataFrame | None
    score: dict[str, Any]
    model: SavedModel | None = None


def _work_dir(paths: RunPaths, k: int) -> Path:
    return paths.root / "work" / f"fold_{fold_label(k)}"


def fold_output(dataset: Dataset, folds: Folds, request: RunRequest, k: int, work_dir: Path | None) -> FoldOutput:
    """Fit fold ``k`` and predict its validation and test rows (checked by the task); writes nothing."""
    spec = dataset.spec
    fitted = fit_fold(dataset, folds, request, k, work_dir=work_dir)
    model, valid, fit_seconds = fitted.model, fitted.valid, fitted.fit_seconds
    task, source = task_of(dataset), f"approach '{request.approach.name}' on fold {k}"
    started = time.perf_counter()
    oof = test = None
    score: dict[str, Any] = {"fold": k, "rows": 0}
    if valid is not None:
        valid_pred = task.checked(model.predict(valid), len(valid), f"{source}, validation rows")
        oof = task.frame(valid[spec.id_column].to_numpy(), valid_pred, k)
        score.update(rows=len(valid), **task.scores(task.target(valid[spec.target]), valid_pred))
    if dataset.test is not None:
        test_pred = task.checked(model.predict(dataset.test), len(dataset.test), f"{source}, test rows")
        test = task.frame(dataset.test[spec.id_column].to_numpy(), test_pred)
    score.update(fit_seconds=fit_seconds, predict_seconds=time.perf_counter() - started, **model.report())
    saved = encode_model(model, folds.hash) if request.saves_models else None
    return FoldOutput(k, oof, test, score, saved)


def _write_fold(paths: RunPaths, output: FoldOutput, metric: str) -> None:
    """The fold's model first, its score last (the score marks the fold done)."""
    if output.model is not None:
        started = time.perf_counter()
        size = write_model(paths.model(output.k), output.model)
        output.score.update(model_mb=round(size / 1e6, 3), save_seconds=round(
            output.model.manifest["encode_seconds"] + time.perf_counter() - started, 3))
    write_fold_part(paths, output.k, output.oof, output.test, output.score)
    if metric in output.score:
        log.info("fold %d: %s %.4f, fit %.1fs", output.k, metric, output.score[metric], output.score["fit_seconds"])
    else:
        log.info("fold -1 (all rows): fitted in %.1fs", output.score["fit_seconds"])


# -- parallel folds (``--jobs N``) -------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _start_fold_worker(dataset: Dataset, folds: Folds, request: RunRequest, threads: int, level: int) -> None:
    """In each worker process: the run's data (sent once, not with every fold) and its share of the threads."""
    use_threads(threads)
    logging.basicConfig(level=level, format="%(message)s", force=True)
    _WORKER.update(dataset=dataset, folds=folds, request=request)


def _fold_in_worker(k: int, work_dir: Path) -> FoldOutput:
    return fold_output(_WORKER["dataset"], _WORKER["folds"], _WORKER["request"], k, work_dir)


def _parallel_fold_outputs(dataset: Dataset, folds: Folds, request: RunRequest, paths: RunPaths,
                           pending: list[int]) -> Iterator[FoldOutput]:
    """Fold outputs from ``request.jobs`` worker processes (each with threads / jobs), as they finish. Every fold
    is seeded from (seed, fold) alone, so the outputs equal a sequential run's; the caller writes them."""
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise CatalogError("--jobs runs folds in parallel processes; under torchrun use --jobs 1")
    jobs = min(request.jobs, len(pending))
    if request.jobs > jobs:
        log.warning("--jobs %d: only %d folds to run, so %d jobs", request.jobs, len(pending), jobs)
    threads = max(1, available_threads() // jobs)
    log.info("%d folds in %d parallel jobs of %d thread(s) each", len(pending), jobs, threads)
    context = multiprocessing.get_context("spawn")  # a forked copy of a process with torch or BLAS threads can hang
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_fold_worker,
                             initargs=(dataset, folds, request, threads, logging.getLogger().level)) as pool:
        futures = [pool.submit(_fold_in_worker, k, _work_dir(paths, k)) for k in pending]
        for future in as_completed(futures):
            yield future.result()


def _assemble(dataset: Dataset, folds: Folds, paths: RunPaths) -> tuple[pd.DataFrame, bool,
                                                                      ScoreUncertainty | None]:
    spec, task = dataset.spec, task_of(dataset)
    cv_done = [k for k in range(folds.n_folds) if paths.fold_done(k)]
    rows = [read_fold_score(paths, k) for k in cv_done]
    complete = len(cv_done) == folds.n_folds
    uncertainty = None
    if cv_done:
        oof = pd.concat([pd.read_parquet(paths.part(k, "oof")) for k in cv_done], ignore_index=True)
        order = pd.Series(np.arange(len(dataset.train)), index=dataset.train[spec.id_column].to_numpy())
        oof = oof.iloc[np.argsort(order.loc[oof["id"]].to_numpy(), kind="stable")].reset_index(drop=True)
        write_frame_atomic(paths.oof, oof)
        target = task.target(dataset.train.set_index(spec.id_column).loc[oof["id"], spec.target])
        oof_pred = task.values(oof, str(paths.oof))
        rows.append({"fold": "all", "rows": len(oof), **task.scores(target, oof_pred),
                     "fit_seconds": sum(r["fit_seconds"] for r in rows),
                     "predict_seconds": sum(r["predict_seconds"] for r in rows)})
        if isinstance(task, ClassificationTask) and complete:
            write_class_report(paths, target, oof_pred, dataset.classes)
        if complete:
            uncertainty = score_uncertainty(task, spec.metric, target, oof_pred, oof["fold"].to_numpy())
        tests = [pd.read_parquet(paths.part(k, "test")) for k in cv_done if paths.part(k, "test").is_file()]
        if tests:
            mean = np.mean([task.values(part, "run part") for part in tests], axis=0)
            write_frame_atomic(paths.test, task.frame(tests[0]["id"].to_numpy(), mean))
    if paths.fold_done(FULL_FIT_FOLD) and paths.part(FULL_FIT_FOLD, "test").is_file():
        write_frame_atomic(paths.test_full, pd.read_parquet(paths.part(FULL_FIT_FOLD, "test")))
    columns = ["fold", "rows", *task.metrics, "fit_seconds", "predict_seconds"]
    extra = [c for r in rows for c in r if c not in columns]
    table = pd.DataFrame(rows, columns=columns + list(dict.fromkeys(extra)))
    table["fold"] = table["fold"].astype(str)
    write_score_tables(paths, table)
    write_json_atomic(paths.summary, {
        "status": "complete" if complete else "partial",
        "folds_done": cv_done,
        "full_fit_done": paths.fold_done(FULL_FIT_FOLD),
        "fold_hash": folds.hash,
        "metric": spec.metric,
        "score": rows[-1].get(spec.metric) if complete and rows else None,
        "uncertainty": uncertainty.to_dict() if uncertainty else None,
    })
    return table, complete, uncertainty
