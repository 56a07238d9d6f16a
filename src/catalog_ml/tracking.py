"""Experiment tracking with MLflow, optional: approach runs log settings, per-fold metrics, timing and their output
files; blends log method, weights and the honest score.

Tracking is on when ``--track`` or ``--tracking-uri URI`` is given, or ``MLFLOW_TRACKING_URI`` is set. The default
store is SQLite in ``./mlruns`` (``mlruns/mlflow.db``, artifacts in ``mlruns/artifacts``); a team points
``--tracking-uri`` at a server. Without MLflow installed, or with an unreachable server, the run goes on untracked and
says so once. MLflow is imported in a background thread while the run works, so tracking costs only the logging.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STORE = Path("mlruns")
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def resolve_tracking_uri(track: bool, uri: str | None) -> str | None:
    """The tracking URI to use, or None when tracking is off."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    if track:
        return f"sqlite:///{(DEFAULT_STORE / 'mlflow.db').resolve()}"
    return None


def server_reachable(uri: str, timeout: float = 3.0) -> str | None:
    """None when an http(s) tracking server answers its health check, else the reason it does not."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            return None
    except Exception as error:  # URLError, timeouts, resets, HTTP errors: all mean "not usable now"
        return f"{type(error).__name__}: {error}"


class Tracker:
    """One MLflow run. Start it early (MLflow imports in the background); ``log_*`` calls are no-ops when
    tracking is off or failed, and a failure warns once instead of stopping the work."""

    def __init__(self, uri: str | None, experiment: str) -> None:
        self.uri, self.experiment = uri, experiment
        self._client: Any = None
        self._experiment_id: str | None = None
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        if uri is not None:
            self._thread = threading.Thread(target=self._connect, daemon=True)
            self._thread.start()

    def _connect(self) -> None:
        try:
            reason = server_reachable(self.uri)
            if reason:
                self._error = f"tracking server {self.uri} is unreachable ({reason})"
                return
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
            from mlflow.tracking import MlflowClient

            if self.uri.startswith("sqlite:///"):
                Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            client = MlflowClient(tracking_uri=self.uri)
            found = client.get_experiment_by_name(self.experiment)
            if found is None:
                artifacts = None
                if self.uri.startswith("sqlite:///"):
                    artifacts = (Path(self.uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
                self._experiment_id = client.create_experiment(self.experiment, artifact_location=artifacts)
            else:
                self._experiment_id = found.experiment_id
            self._client = client
        except ImportError:
            self._error = "MLflow is not installed (pip install mlflow-skinny sqlalchemy alembic)"
        except Exception as error:  # any store failure: keep working untracked
            self._error = f"tracking store {self.uri} failed ({type(error).__name__}: {str(error)[:200]})"

    @property
    def active(self) -> bool:
        if self._thread is None:
            return False
        self._thread.join()
        if self._error:
            _warn_once(self._error, f"{self._error}: continuing without tracking")
        return self._client is not None

    def log_run(self, name: str, params: dict[str, Any], metrics: dict[str, float],
                fold_metrics: list[dict[str, float]] | None = None, artifacts: list[Path] = (),
                tags: dict[str, str] | None = None) -> str | None:
        """One tracked run; returns its MLflow run id (None when untracked)."""
        if not self.active:
            return None
        try:
            from mlflow.entities import Metric, Param, RunTag

            run = self._client.create_run(self._experiment_id, run_name=name,
                                          tags={k: str(v) for k, v in (tags or {}).items()})
            run_id = run.info.run_id
            stamp = int(run.info.start_time)
            metric_rows = [Metric(k, float(v), stamp, 0) for k, v in metrics.items() if _finite(v)]
            for step, row in enumerate(fold_metrics or []):
                metric_rows += [Metric(f"fold_{k}", float(v), stamp, step) for k, v in row.items() if _finite(v)]
            flat = {k: str(v)[:6000] for k, v in _flatten(params).items()}
            self._client.log_batch(run_id, metrics=metric_rows, params=[Param(k, v) for k, v in flat.items()],
                                   tags=[RunTag("catalog_ml.kind", name.split("/")[0])])
            for path in artifacts:
                if Path(path).is_file():
                    self._client.log_artifact(run_id, str(path))
            self._client.set_terminated(run_id)
            return run_id
        except Exception as error:  # the work is done and saved; tracking must not fail it
            _warn_once(f"log:{self.uri}", f"MLflow logging failed ({type(error).__name__}: {str(error)[:200]}): "
                                          "continuing without tracking")
            self._client = None
            return None


def _finite(value: Any) -> bool:
    try:
        return value is not None and float(value) == float(value) and abs(float(value)) != float("inf")
    except (TypeError, ValueError):
        return False


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
