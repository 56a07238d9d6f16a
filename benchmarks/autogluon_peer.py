"""The peer system: AutoGluon-Tabular in its own virtual environment (its pins conflict with ours), on our folds.

``ensure_autogluon`` builds the environment once (a marker file records the pins); ``run_autogluon`` writes the
dataset's table with our fold column, runs ``autogluon_worker.py`` there under a hard timeout (AutoGluon does not
always keep its own time limit), and returns whatever folds finished, with the status of the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from common import run_bounded

from catalog_ml.data.folds import Folds
from catalog_ml.data.loading import Dataset

BENCHMARKS = Path(__file__).resolve().parent
AUTOGLUON_PINS = ("autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "torch==2.13.0", "pandas<2.4",
                  "pyarrow<25")
GRACE = 1.25  # the hard timeout, relative to the time limit given to AutoGluon, plus GRACE_SECONDS
GRACE_SECONDS = 60.0
# RandomForest and ExtraTrees are out of both presets on AutoGluon's wide n-gram features with 2 cores: with a time
# limit they ignore their share (books, 41 s a fold: RandomForestMSE_BAG_L1 ran past 6 minutes, so the whole run was
# killed with no fold done), and without one (medium_quality) RandomForestMSE alone ran past 12 minutes on books'
# fold 0, where LightGBMXT took 63 s and LightGBM 77 s. The other models keep AutoGluon's settings. Pass exclude=()
# for the full presets.
EXCLUDED_MODELS = ("RF", "XT")


@dataclass(frozen=True)
class PeerBudget:
    """One AutoGluon preset at the budget a user would give it, fixed per table size and independent of our time.

    ``limit_per_10k`` is AutoGluon's time limit for the whole table (all folds; each fold an equal share) per 10,000
    rows, at least ``floor_seconds``; None runs it without a limit, as its default does. ``timeout_per_10k`` (at least
    ``floor_seconds``) is the hard timeout of a run without a limit; a run with one is stopped at GRACE times the limit
    plus GRACE_SECONDS. ``exclude`` names the model types it leaves out."""

    name: str
    presets: str
    limit_per_10k: float | None
    timeout_per_10k: float
    floor_seconds: float
    exclude: tuple[str, ...] = ()

    def time_limit(self, rows: int) -> float | None:
        """AutoGluon's own time limit for a table of ``rows`` rows (None: no limit)."""
        return None if self.limit_per_10k is None else max(self.floor_seconds, self.limit_per_10k * rows / 10_000)

    def hard_timeout(self, rows: int) -> float:
        """When the run is stopped, whatever AutoGluon does."""
        limit = self.time_limit(rows)
        if limit is not None:
            return limit * GRACE + GRACE_SECONDS
        return max(self.floor_seconds, self.timeout_per_10k * rows / 10_000)

    def describe(self) -> str:
        """The budget in words, for the report."""
        left_out = f", without {','.join(self.exclude)}" if self.exclude else ""
        if self.limit_per_10k is None:
            return (f"{self.presets}{left_out}: no time limit (AutoGluon's default), stopped after "
                    f"{self.timeout_per_10k:.0f} s per 10k rows (at least {self.floor_seconds:.0f} s)")
        return (f"{self.presets}{left_out}: time limit {self.limit_per_10k:.0f} s per 10k rows (at least "
                f"{self.floor_seconds:.0f} s) for the five folds, stopped at {GRACE} x the limit + "
                f"{GRACE_SECONDS:.0f} s")


@dataclass
class PeerResult:
    """What the peer produced: ``status`` is ok, "did not finish", "failed: ..." or "not installed: ..."."""

    status: str
    seconds: float
    predictions: pd.DataFrame | None  # id, fold, pred or proba:<class> columns, for the folds that finished


def ensure_autogluon(venv: Path) -> str | None:
    """Create the AutoGluon environment if needed; None when ready, else the reason it is not."""
    marker = venv / "catalog_ml_pins.txt"
    if marker.is_file() and marker.read_text() == "\n".join(AUTOGLUON_PINS):
        return None
    print(f"installing AutoGluon into {venv} (once; several minutes)", file=sys.stderr, flush=True)
    python = venv / "bin" / "python"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *AUTOGLUON_PINS], check=True,
                       capture_output=True, text=True, timeout=3600)
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
        return f"install failed: {' / '.join(tail)[:300]}"
    except subprocess.TimeoutExpired:
        return "install took over an hour"
    marker.write_text("\n".join(AUTOGLUON_PINS))
    return None


def peer_table(dataset: Dataset, folds: Folds) -> pd.DataFrame:
    """The columns AutoGluon sees: text, categorical and numeric attributes (no images), the label, id and fold."""
    spec = dataset.spec
    columns = [*spec.text_columns, *spec.categorical_columns, *spec.numeric_columns]
    table = dataset.train[columns].copy()
    for column in spec.text_columns:
        table[column] = table[column].fillna("").astype(str)
    for column in spec.categorical_columns:
        table[column] = table[column].astype("string").astype("category")
    table["label"] = dataset.target.to_numpy()
    table["id"] = dataset.train[spec.id_column].astype(str).to_numpy()
    table["fold"] = folds.fold
    return table


def run_autogluon(dataset: Dataset, folds: Folds, time_limit: float | None, out_dir: Path, venv: Path,
                  presets: str = "best_quality", grace_seconds: float = GRACE_SECONDS,
                  exclude: tuple[str, ...] = EXCLUDED_MODELS, hard_timeout: float | None = None) -> PeerResult:
    """AutoGluon on every fold under a hard timeout; finished folds are kept (and skipped by a re-run).
    ``time_limit`` None runs AutoGluon without one (its default); the hard timeout is then ``hard_timeout``, which
    must be given (by default it is the limit times GRACE plus ``grace_seconds``). ``exclude`` names AutoGluon model
    types to leave out; a worker that gives up says why in ``folds/failure.txt``."""
    if hard_timeout is None:
        if time_limit is None:
            raise ValueError("run_autogluon without a time limit needs a hard_timeout")
        hard_timeout = time_limit * GRACE + grace_seconds
    started = time.perf_counter()
    problem = ensure_autogluon(venv)
    if problem is not None:
        return PeerResult(f"not installed: {problem}", 0.0, None)
    out_dir.mkdir(parents=True, exist_ok=True)
    table_path = out_dir / "table.parquet"
    peer_table(dataset, folds).to_parquet(table_path)
    kind = "multiclass" if dataset.spec.task == "classification" else "regression"
    command = [str(venv / "bin" / "python"), str(BENCHMARKS / "autogluon_worker.py"), "--table", str(table_path),
               "--label", "label", "--problem", kind, "--presets", presets, "--exclude-models", ",".join(exclude),
               *(["--time-limit", str(time_limit)] if time_limit is not None else []), "--out", str(out_dir / "folds")]
    failure = out_dir / "folds" / "failure.txt"
    failure.unlink(missing_ok=True)
    with (out_dir / "autogluon.log").open("w") as log:
        threads = str(len(os.sched_getaffinity(0)))  # the cores this process may use
        run = run_bounded(command, hard_timeout, log, {**os.environ, "OMP_NUM_THREADS": threads})
    if run.overran:
        status = f"did not finish in {hard_timeout:.0f} s"
    elif run.exit_code == 0:
        status = "ok"
    elif failure.is_file():
        status = f"failed: {failure.read_text().strip()}"
    else:
        status = f"failed: exit {run.exit_code} (see {out_dir / 'autogluon.log'})"
    parts = sorted((out_dir / "folds").glob("fold_*.parquet"))
    predictions = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else None
    return PeerResult(status, time.perf_counter() - started, predictions)


def aligned_predictions(predictions: pd.DataFrame, ids: np.ndarray, columns: list[str]) -> np.ndarray:
    """Prediction columns in the order of ``ids`` (NaN for rows of folds that did not finish)."""
    indexed = predictions.set_index(predictions["id"].astype(str))
    return indexed.reindex(np.asarray(ids, dtype=str))[columns].to_numpy(dtype=float)
