"""One fold of one run as a job: fit it (the one place a fold model is fitted), predict its rows, encode its model;
and a stream of such jobs, run one after another or in ``jobs`` worker processes, within an optional deadline.

Every fold is seeded from (run seed, fold) alone, and runs with its BLAS and OpenMP thread pools set to its thread
share, so a job's output does not depend on what ran beside it, nor on the environment the process started in (Ray
starts its workers with ``OMP_NUM_THREADS`` set; a plain process takes every core). Numeric libraries can round
differently with a different thread count: a fold job's output equals a sequential run's at the same threads per job
(``--threads T --jobs 1`` against ``--jobs N`` on N x T CPUs).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from threadpoolctl import threadpool_limits

from catalog_ml.core.approach import Approach, FitContext
from catalog_ml.core.resources import available_threads, use_threads
from catalog_ml.core.run_files import RunPaths, fold_label, write_fold_part
from catalog_ml.core.run_request import RunRequest
from catalog_ml.core.saved_models import SavedModel, encode_model, write_model
from catalog_ml.core.seeding import fold_seed, seed_everything
from catalog_ml.core.task import task_of
from catalog_ml.data.folds import FULL_FIT_FOLD, Folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)
H = TypeVar("H")  # a submitted job's handle: a future, or a Ray object reference


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
    with threadpool_limits(limits=available_threads()):
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


def work_dir(paths: RunPaths, k: int) -> Path:
    return paths.root / "work" / f"fold_{fold_label(k)}"


def fold_output(dataset: Dataset, folds: Folds, request: RunRequest, k: int, work_dir: Path | None) -> FoldOutput:
    """Fit fold ``k`` and predict its validation and test rows (checked by the task); writes nothing. BLAS and
    OpenMP pools use this process's threads (``resources.available_threads``) for the fit (``fit_fold``) and the
    predictions."""
    spec = dataset.spec
    fitted = fit_fold(dataset, folds, request, k, work_dir=work_dir)
    model, valid, fit_seconds = fitted.model, fitted.valid, fitted.fit_seconds
    task, source = task_of(dataset), f"approach '{request.approach.name}' on fold {k}"
    started = time.perf_counter()
    oof = test = None
    score: dict[str, Any] = {"fold": k, "rows": 0}
    with threadpool_limits(limits=available_threads()):
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


def write_fold(paths: RunPaths, output: FoldOutput, metric: str) -> None:
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


@dataclass(frozen=True)
class FoldJob:
    """Fold ``k`` of the run at position ``run`` of a run call's requests."""

    run: int
    k: int


def job_outputs(dataset: Dataset, folds: Folds, requests: list[RunRequest], paths: list[RunPaths],
                pending: list[FoldJob], jobs: int, starts: Callable[[FoldJob], bool]) -> Iterator[
                    tuple[FoldJob, FoldOutput]]:
    """The outputs of ``pending`` jobs as they finish: in order in this process (``jobs`` 1), else from ``jobs``
    worker processes with threads / jobs each. ``starts(job)`` is asked before each job starts; False skips it (a
    time limit). The caller writes the outputs."""
    if jobs == 1 or len(pending) <= 1:
        for job in pending:
            if starts(job):
                yield job, fold_output(dataset, folds, requests[job.run], job.k, work_dir(paths[job.run], job.k))
        return
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise CatalogError("--jobs runs folds in parallel processes; under torchrun use --jobs 1")
    threads = max(1, available_threads() // jobs)
    log.info("%d fold jobs in %d parallel processes of %d thread(s) each", len(pending), jobs, threads)
    context = multiprocessing.get_context("spawn")  # a forked copy of a process with torch or BLAS threads can hang
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_fold_worker,
                             initargs=(dataset, folds, threads, logging.getLogger().level)) as pool:
        yield from in_flight(
            pending, jobs, starts,
            submit=lambda job: pool.submit(_fold_in_worker, requests[job.run], job.k, work_dir(paths[job.run], job.k)),
            next_done=lambda running: next(iter(wait(running, return_when=FIRST_COMPLETED)[0])),
            result=lambda job, future: future.result())


def in_flight(pending: list[FoldJob], jobs: int, starts: Callable[[FoldJob], bool], submit: Callable[[FoldJob], H],
              next_done: Callable[[list[H]], H], result: Callable[[FoldJob, H], FoldOutput]) -> Iterator[
                  tuple[FoldJob, FoldOutput]]:
    """Keep at most ``jobs`` of ``pending`` submitted (``submit`` returns a handle; ``starts`` is asked just before
    each, so a time limit judges it with what has finished), and yield each output as its handle is done: the one
    scheduling loop of the process pool and of Ray."""
    queue, running = list(pending), {}

    def fill() -> None:
        while queue and len(running) < jobs:
            job = queue.pop(0)
            if starts(job):
                running[submit(job)] = job

    fill()
    while running:
        handle = next_done(list(running))
        job = running.pop(handle)
        yield job, result(job, handle)
        fill()


_WORKER: dict[str, Any] = {}


def _start_fold_worker(dataset: Dataset, folds: Folds, threads: int, level: int) -> None:
    """In each worker process: the data (sent once, not with every job) and its share of the threads."""
    use_threads(threads)
    logging.basicConfig(level=level, format="%(message)s", force=True)
    _WORKER.update(dataset=dataset, folds=folds)


def _fold_in_worker(request: RunRequest, k: int, job_dir: Path) -> FoldOutput:
    return fold_output(_WORKER["dataset"], _WORKER["folds"], request, k, job_dir)
