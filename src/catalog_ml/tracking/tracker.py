"""Experiment tracking with MLflow, optional: approach runs log settings, per-fold metrics, timing and their output
files; blends log method, weights and the honest score.

Tracking is on when ``--track`` or ``--tracking-uri URI`` is given, or ``MLFLOW_TRACKING_URI`` is set. The default
store is SQLite in ``./mlruns`` (``mlruns/mlflow.db``, artifacts in ``mlruns/artifacts``); a team points
``--tracking-uri`` at a server. Without MLflow installed, or with an unreachable server, the run goes on untracked and
says so once. MLflow lives in a helper process (``tracking_worker``) started with the run, so the run itself never
imports it and tracking costs little more than the logging. The ``catalog-ml`` command starts that helper
(``start_early``) before its own imports, so that MLflow's imports (~3.5 s of CPU) run beside them on the other core.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STORE = Path("mlruns")
_warned: set[str] = set()
_early_helpers: dict[str, subprocess.Popen] = {}


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def add_tracking_arguments(parser: argparse.ArgumentParser) -> None:
    """``--track`` and ``--tracking-uri``: the options of every command that can track."""
    parser.add_argument("--track", action="store_true",
                        help="track with MLflow in ./mlruns (SQLite); also on when MLFLOW_TRACKING_URI is set")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow tracking URI (a team server http://..., or sqlite:///path.db)")


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


def _start_helper(uri: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "catalog_ml.tracking.worker", uri], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def start_early(argv: list[str]) -> None:
    """Start the MLflow helper for a command line that asks for tracking, before the command's own imports; the
    ``Tracker`` made later for the same URI takes it over. Does nothing for ``--help`` or an untracked command; a
    helper nobody takes over exits with this process (its input closes)."""
    if "-h" in argv or "--help" in argv:
        return
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_tracking_arguments(parser)
    try:
        known, _ = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return  # the command's own parser reports the mistake
    uri = resolve_tracking_uri(known.track, known.tracking_uri)
    if uri is not None and uri not in _early_helpers:
        _early_helpers[uri] = _start_helper(uri)


class Tracker:
    """One tracking session. MLflow is imported and connected in a helper process started at once (or earlier, by
    ``start_early``), on the other core while the run works (measured: importing MLflow costs ~3 s, which a thread
    could not hide behind a busy interpreter); ``log_run`` hands it a finished run and waits for its id. Calls are
    no-ops when tracking is off or failed, and a failure warns once instead of stopping the work."""

    def __init__(self, uri: str | None, experiment: str) -> None:
        self.uri, self.experiment = uri, experiment
        self._worker: subprocess.Popen | None = None
        self._ready: bool | None = None
        if uri is not None:
            self._worker = _early_helpers.pop(uri, None) or _start_helper(uri)
            self._send({"experiment": experiment})

    @property
    def active(self) -> bool:
        if self._worker is None:
            return False
        if self._ready is None:
            answer = self._answer()
            self._ready = bool(answer.get("ready"))
            if not self._ready:
                self._fail(answer.get("error", "the tracking helper stopped"))
        return self._ready

    def _answer(self) -> dict[str, Any]:
        line = self._worker.stdout.readline() if self._worker is not None else ""
        try:
            return json.loads(line) if line else {"error": "the tracking helper stopped without an answer"}
        except json.JSONDecodeError:
            return {"error": f"unexpected answer from the tracking helper: {line[:200]!r}"}

    def _fail(self, reason: str) -> None:
        _warn_once(reason, f"{reason}: continuing without tracking")
        self._ready = False
        self.close()

    def log_run(self, name: str, params: dict[str, Any], metrics: dict[str, float],
                fold_metrics: list[dict[str, float]] | None = None, artifacts: list[Path] = (),
                tags: dict[str, str] | None = None) -> str | None:
        """One tracked run; returns its MLflow run id (None when untracked)."""
        if not self.active:
            return None
        payload = {"name": name, "params": {k: str(v)[:6000] for k, v in _flatten(params).items()},
                   "metrics": {k: float(v) for k, v in metrics.items() if _finite(v)},
                   "fold_metrics": [{k: float(v) for k, v in row.items() if _finite(v)} for row in fold_metrics or []],
                   "artifacts": [str(p) for p in artifacts if Path(p).is_file()],
                   "tags": {k: str(v) for k, v in (tags or {}).items()}}
        if not self._send(payload):
            return None
        answer = self._answer()
        if "run_id" not in answer:
            self._fail(f"MLflow logging failed ({answer.get('error', 'no answer')})")
            return None
        return answer["run_id"]

    def _send(self, message: dict[str, Any]) -> bool:
        try:
            self._worker.stdin.write(json.dumps(message) + "\n")
            self._worker.stdin.flush()
            return True
        except OSError as error:
            self._fail(f"the tracking helper stopped ({error})")
            return False

    def close(self) -> None:
        """Let the helper process finish (it exits when its input closes)."""
        if self._worker is not None:
            try:
                self._worker.stdin.close()
                self._worker.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._worker.kill()
            self._worker = None


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
