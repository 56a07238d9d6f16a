"""Fold jobs as Ray tasks (``--executor ray``): on a local Ray instance, or on a cluster (``--ray-address``).

Ray schedules the jobs with per-job CPU (and GPU) requests and retries a job whose worker died; the data goes to
the object store once; each job's output comes back through it and this process (the driver) writes the run files,
atomically, as for local jobs. So the run folder needs no shared filesystem, but the workers need catalog_ml and the
approaches installed, and the data's own files (images, embedding tables) at the same paths.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from catalog_ml.core.fold_jobs import FoldJob, FoldOutput, fold_output, in_flight, work_dir
from catalog_ml.core.resources import available_threads, use_threads
from catalog_ml.core.run_files import RunPaths
from catalog_ml.core.run_request import RunRequest
from catalog_ml.data.folds import Folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

CONNECT_SECONDS = 5.0
RETRIES = 2  # a job whose worker process dies is run again this many times


def ray_job_outputs(dataset: Dataset, folds: Folds, requests: list[RunRequest], paths: list[RunPaths],
                    pending: list[FoldJob], jobs: int, starts: Callable[[FoldJob], bool],
                    address: str | None = None, gpus_per_job: float = 0.0) -> Iterator[tuple[FoldJob, FoldOutput]]:
    """The outputs of ``pending`` jobs run as Ray tasks, ``jobs`` at a time, as they finish (``starts`` as in
    ``fold_jobs.job_outputs``). Without ``address`` a local Ray instance with this process's CPUs is started and
    stopped; with one, that cluster is joined."""
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        _start(ray, address)
    try:
        cpus = max(1.0, float(ray.cluster_resources().get("CPU", available_threads())))
        threads = max(1, int(cpus // jobs))
        log.info("%d fold jobs as Ray tasks, %d at a time, %d CPU(s) each", len(pending), jobs, threads)
        data = ray.put((dataset, folds))
        task = ray.remote(num_cpus=threads, num_gpus=gpus_per_job, max_retries=RETRIES)(_fold_task)

        def result(job: FoldJob, reference: Any) -> FoldOutput:
            try:
                return ray.get(reference)
            except ray.exceptions.RayTaskError as error:  # the job's own exception, raised again here
                raise error.as_instanceof_cause() from None
            except ray.exceptions.RayError as error:
                raise CatalogError(f"{requests[job.run].run_name}: fold {job.k} failed on Ray after {RETRIES} "
                                   f"retries ({type(error).__name__}); finished folds are kept: run again") from None

        yield from in_flight(
            pending, jobs, starts,
            submit=lambda job: task.remote(data, requests[job.run], job.k, work_dir(paths[job.run], job.k), threads),
            next_done=lambda running: ray.wait(running, num_returns=1)[0][0], result=result)
    finally:
        if started_here:
            ray.shutdown()


def _fold_task(data: tuple[Dataset, Folds], request: RunRequest, k: int, job_dir: Path, threads: int) -> FoldOutput:
    use_threads(threads)
    dataset, folds = data
    return fold_output(dataset, folds, request, k, job_dir)


def check_ray(address: str | None) -> None:
    """Before any run file is written: Ray is installed, and a cluster address answers."""
    _import_ray()
    if address:
        _check_reachable(address)


def _import_ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError:
        raise CatalogError("--executor ray needs Ray: pip install 'catalog-ml[ray]'") from None
    return ray


def _start(ray: Any, address: str | None) -> None:
    try:
        ray.init(address=address or None, num_cpus=None if address else available_threads(),
                 include_dashboard=False, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CatalogError(f"--ray-address {address}: cannot start or join Ray ({first})") from None


def _check_reachable(address: str) -> None:
    """A cluster address that does not answer within a few seconds is refused now (Ray itself retries for long)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise CatalogError(f"--ray-address {address}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as error:
        raise CatalogError(f"--ray-address {address}: no Ray cluster answers there ({error.strerror or error})"
                           ) from None
