"""The MLflow side of ``catalog_ml.tracking.tracker``: ``python -m catalog_ml.tracking.worker URI``.

Imports MLflow and opens the store at once (the slow part, done before the caller knows its experiment), then reads
``{"experiment": NAME}`` from stdin and answers ``{"ready": true}`` or ``{"error": ...}`` on stdout; then logs one
run per JSON line read from stdin and answers each with ``{"run_id": ...}`` or ``{"error": ...}``. Exits when stdin
closes (also when it closes before the experiment line: a helper started early that nobody took over).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from catalog_ml.tracking.tracker import server_reachable


def connect(uri: str) -> Any:
    """An MlflowClient on the store (imports MLflow, checks that a server answers)."""
    reason = server_reachable(uri)
    if reason:
        raise ConnectionError(f"tracking server {uri} is unreachable ({reason})")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=uri)


def experiment_id(client: Any, uri: str, experiment: str) -> str:
    """The experiment's id, created on first use (artifacts beside a SQLite store)."""
    artifacts = None
    if uri.startswith("sqlite:///"):
        artifacts = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
    found = client.get_experiment_by_name(experiment)
    return found.experiment_id if found else client.create_experiment(experiment, artifact_location=artifacts)


def log_run(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from mlflow.entities import Metric, Param, RunTag

    run = client.create_run(experiment_id, run_name=payload["name"], tags=payload["tags"])
    run_id, stamp = run.info.run_id, int(run.info.start_time)
    metrics = [Metric(k, v, stamp, 0) for k, v in payload["metrics"].items()]
    for step, row in enumerate(payload["fold_metrics"]):
        metrics += [Metric(f"fold_{k}", v, stamp, step) for k, v in row.items()]
    client.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in payload["params"].items()],
                     tags=[RunTag("catalog_ml.kind", payload["name"].split("/")[0])])
    for path in payload["artifacts"]:
        client.log_artifact(run_id, path)
    client.set_terminated(run_id)
    return run_id


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _failure(uri: str, error: Exception) -> str:
    if isinstance(error, ImportError):
        return "MLflow is not installed (pip install mlflow-skinny sqlalchemy alembic)"
    if isinstance(error, ConnectionError):
        return str(error)
    return f"tracking store {uri} failed ({type(error).__name__}: {str(error)[:200]})"


def main() -> int:
    uri = sys.argv[1]
    client, failure = None, None
    try:
        client = connect(uri)
    except Exception as error:  # not installed, unreachable server, broken store: the caller goes on untracked
        failure = _failure(uri, error)
    first = sys.stdin.readline()
    if not first:
        return 0
    if failure is None:
        try:
            experiment = experiment_id(client, uri, json.loads(first)["experiment"])
        except Exception as error:  # a broken store shows here first
            failure = _failure(uri, error)
    if failure is not None:
        answer({"error": failure})
        return 0
    answer({"ready": True})
    for line in sys.stdin:
        try:
            answer({"run_id": log_run(client, experiment, json.loads(line))})
        except Exception as error:  # reported to the caller, which warns once
            answer({"error": f"{type(error).__name__}: {str(error)[:200]}"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
