"""The MLflow side of ``catalog_ml.tracking``: ``python -m catalog_ml.tracking_worker URI EXPERIMENT``.

Connects (answers ``{"ready": true}`` or ``{"error": ...}`` on stdout), then logs one run per JSON line read from
stdin and answers each with ``{"run_id": ...}`` or ``{"error": ...}``; exits when stdin closes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from catalog_ml.tracking import server_reachable


def connect(uri: str, experiment: str) -> tuple[Any, str]:
    """An MlflowClient and the experiment id (created on first use, artifacts beside a SQLite store)."""
    reason = server_reachable(uri)
    if reason:
        raise ConnectionError(f"tracking server {uri} is unreachable ({reason})")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    from mlflow.tracking import MlflowClient

    artifacts = None
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///"))
        database.parent.mkdir(parents=True, exist_ok=True)
        artifacts = (database.parent / "artifacts").resolve().as_uri()
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment,
                                                                              artifact_location=artifacts)
    return client, experiment_id


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


def main() -> int:
    uri, experiment = sys.argv[1], sys.argv[2]
    try:
        client, experiment_id = connect(uri, experiment)
    except ImportError:
        answer({"error": "MLflow is not installed (pip install mlflow-skinny sqlalchemy alembic)"})
        return 0
    except Exception as error:  # unreachable server, broken store: the caller goes on untracked
        message = str(error) if isinstance(error, ConnectionError) else (
            f"tracking store {uri} failed ({type(error).__name__}: {str(error)[:200]})")
        answer({"error": message})
        return 0
    answer({"ready": True})
    for line in sys.stdin:
        try:
            answer({"run_id": log_run(client, experiment_id, json.loads(line))})
        except Exception as error:  # reported to the caller, which warns once
            answer({"error": f"{type(error).__name__}: {str(error)[:200]}"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
