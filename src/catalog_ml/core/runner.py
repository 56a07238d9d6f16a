"""The runner: owns folds, seeds, timing, logging, progress, output files and resuming.

A re-run skips finished folds; since each fold is seeded from (seed, fold) alone, a resumed run gives the same
result as an uninterrupted one. Several runs (approaches, seeds) go through one call: their folds are jobs, run
``jobs`` at a time in worker processes (``core.fold_jobs``), with the same outputs as one run after another, and a
time limit that no fold job is started to overrun.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from catalog_ml import __version__
from catalog_ml.atomic import ensure_writable_dir, write_frame_atomic, write_json_atomic
from catalog_ml.core.class_report import write_class_report
from catalog_ml.core.config import config_to_dict
from catalog_ml.core.fold_jobs import FoldJob, job_outputs, write_fold
from catalog_ml.core.ray_jobs import check_ray, ray_job_outputs
from catalog_ml.core.resources import requested_device
from catalog_ml.core.run_files import RunPaths, read_fold_score, read_json, write_score_tables
from catalog_ml.core.run_request import RunRequest, RunResult, is_main_process
from catalog_ml.core.task import ClassificationTask, task_of
from catalog_ml.core.uncertainty import ScoreUncertainty, score_uncertainty
from catalog_ml.data.folds import FULL_FIT_FOLD, Folds, load_folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name, clear_folder_inside, exclusive_writer

log = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")


def run_approach(dataset: Dataset, request: RunRequest, folds: Folds | None = None) -> RunResult:
    """Fit and predict the requested folds (skipping finished ones; ``request.jobs`` at a time), then assemble OOF,
    test and score tables."""
    return run_approaches(dataset, [request], jobs=request.jobs, folds=folds)[0]


def run_approaches(dataset: Dataset, requests: list[RunRequest], jobs: int = 1, folds: Folds | None = None,
                   time_limit: float | None = None, executor: str = "local",
                   ray_address: str | None = None) -> list[RunResult]:
    """Several runs on the same folds, their pending folds ``jobs`` at a time (each with threads / jobs); outputs
    equal those of the runs one after another. With ``time_limit`` (seconds), a fold job is not started when the
    run's finished folds say it would end past the limit (or when the limit has passed); such folds are reported
    and their runs stay partial, to be resumed. ``executor="ray"`` sends the jobs to Ray (``core.ray_jobs``): a
    local instance, or the cluster at ``ray_address``."""
    spec = dataset.spec
    if executor not in EXECUTORS:
        raise CatalogError(f"--executor {executor}: expected one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise CatalogError("--ray-address needs --executor ray")
    if executor == "ray":
        check_ray(ray_address)
    for request in requests:
        if spec.task not in request.approach.tasks:
            raise CatalogError(f"approach '{request.approach.name}' does not support task '{spec.task}'")
    if jobs < 1:
        raise CatalogError(f"--jobs {jobs}: expected at least 1 job")
    if time_limit is not None and time_limit <= 0:
        raise CatalogError(f"--time-limit {time_limit}: expected a positive number of seconds")
    folds = folds or load_folds(dataset)
    roots = [Path(r.output_root) / check_name(spec.name, "dataset name") / check_name(r.run_name, "run name")
             for r in requests]
    if len(set(roots)) != len(roots):
        raise CatalogError("two runs of one call would write the same folder: give them different --tag values")
    wanted = [_folds_to_run(r.folds, folds.n_folds) for r in requests]
    if not is_main_process():  # the other torchrun ranks train beside rank 0, which holds the lock and writes
        paths = [RunPaths(ensure_writable_dir(root)) for root in roots]
        return _run_jobs(dataset, folds, requests, paths, wanted, jobs, time_limit, executor, ray_address)
    with ExitStack() as locks:
        paths = []
        for request, root in zip(requests, roots, strict=True):
            locks.enter_context(exclusive_writer(root, wait=request.wait))
            paths.append(RunPaths(root))
            _prepare_run_folder(paths[-1], _effective_config(dataset, request, folds), request.overwrite,
                                Path(request.output_root))
        return _run_jobs(dataset, folds, requests, paths, wanted, jobs, time_limit, executor, ray_address)


def _run_jobs(dataset: Dataset, folds: Folds, requests: list[RunRequest], paths: list[RunPaths],
              wanted: list[list[int]], jobs: int, time_limit: float | None, executor: str = "local",
              ray_address: str | None = None) -> list[RunResult]:
    handlers = [_attach_log_file(p, i) for i, p in enumerate(paths)]
    pending, skipped = [], []
    for i, (request, run_paths) in enumerate(zip(requests, paths, strict=True)):
        done = [k for k in wanted[i] if run_paths.fold_done(k)]
        skipped.append(tuple(done))
        for k in done:
            log.info("%s: fold %s already finished: skipped", request.run_name, k)
        pending += [FoldJob(i, k) for k in wanted[i] if k not in done]
    if jobs > len(pending) > 0:
        log.warning("--jobs %d: only %d fold jobs to run, so %d jobs", jobs, len(pending), len(pending))
    if is_main_process():  # what every fold reads from the cache, computed once whatever the order of the folds
        for i in sorted({job.run for job in pending}):
            requests[i].approach.warm_cache(requests[i].config, dataset, requests[i].cache_dir)
    clock = _FoldClock(time_limit, len(requests))

    def starts(job: FoldJob) -> bool:
        """Within the time limit? Then the job's run is the one whose log records what follows."""
        if clock.starts(job):
            _ACTIVE_RUN[0] = job.run
            return True
        return False

    name = requests[0].run_name if len(requests) == 1 else f"{len(requests)} runs"
    try:
        jobs_now = min(jobs, max(1, len(pending)))
        if executor == "ray":
            gpus = 1.0 if requested_device().startswith("cuda") else 0.0
            outputs = ray_job_outputs(dataset, folds, requests, paths, pending, jobs_now, starts, ray_address, gpus)
        else:
            outputs = job_outputs(dataset, folds, requests, paths, pending, jobs_now, starts)
        for job, output in tqdm(outputs, total=len(pending), desc=f"{name} folds",
                                disable=not requests[0].progress, leave=False):
            clock.finished(job, output.score)
            if is_main_process():
                _ACTIVE_RUN[0] = job.run
                write_fold(paths[job.run], output, dataset.spec.metric)
                _ACTIVE_RUN[0] = None
        results = []
        for i, run_paths in enumerate(paths):
            _ACTIVE_RUN[0] = i
            scores, complete, uncertainty = (_assemble(dataset, folds, run_paths) if is_main_process()
                                             else (pd.DataFrame(), False, None))
            not_run = tuple(job.k for job in clock.refused if job.run == i)
            if not_run:
                log.warning("%s: folds %s not started: the time limit would have been passed", requests[i].run_name,
                            list(not_run))
            results.append(RunResult(paths=run_paths, scores=scores, complete=complete, skipped_folds=skipped[i],
                                     uncertainty=uncertainty, not_run=not_run))
    finally:
        _ACTIVE_RUN[0] = None
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    return results


class _FoldClock:
    """Decides whether a fold job may start within the time limit: not after the limit, nor when the run's mean
    fold time so far says it would end past it."""

    now = staticmethod(time.monotonic)

    def __init__(self, time_limit: float | None, runs: int) -> None:
        self.deadline = self.now() + time_limit if time_limit is not None else None
        self.seconds: list[list[float]] = [[] for _ in range(runs)]
        self.refused: list[FoldJob] = []

    def starts(self, job: FoldJob) -> bool:
        if self.deadline is None:
            return True
        known = self.seconds[job.run]
        expected = sum(known) / len(known) if known else 0.0
        if self.now() + expected > self.deadline:
            self.refused.append(job)
            return False
        return True

    def finished(self, job: FoldJob, score: dict[str, Any]) -> None:
        self.seconds[job.run].append(float(score.get("fit_seconds", 0.0)) + float(score.get("predict_seconds", 0.0)))


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


_ACTIVE_RUN: list[int | None] = [None]  # the run a record belongs to, while one is fitted or written


def _attach_log_file(paths: RunPaths, run: int) -> logging.Handler:
    """``run.log`` of one run: the records logged while that run (or no particular run) is active."""
    if not is_main_process():
        return logging.NullHandler()
    handler = logging.FileHandler(paths.log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: _ACTIVE_RUN[0] in (None, run))
    logging.getLogger().addHandler(handler)
    return handler


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
