"""Several approaches and their honest blend in one call, within an optional time limit: what ``catalog-ml fit`` and
``Predictor.fit`` do. The runs share the fold jobs (``--jobs``); the blend uses the runs that finished."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_ml.api.blending import BlendResult, run_blend
from catalog_ml.core.run_files import read_json
from catalog_ml.core.run_request import RunRequest, RunResult
from catalog_ml.core.runner import run_approaches
from catalog_ml.data.folds import Folds
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

BLEND_SHARE = 0.1  # of a time limit kept for the blend (measured: 11 s for 7 runs of 5k rows, auto)
LEADERBOARD_COLUMNS = ["model", "score", "standard_error", "fit_seconds", "predict_seconds"]


@dataclass(frozen=True)
class FitOutcome:
    """The runs of a multi-approach fit, the blend of the finished ones, and its wall time."""

    results: list[RunResult]
    blend: BlendResult | None
    seconds: float

    def leaderboard(self, metric: str) -> pd.DataFrame:
        """Per run and the blend: the CV score (nested for the blend), its standard error over folds, seconds."""
        rows = [run_row(result) for result in self.results]
        if self.blend is not None:
            rows.append({"model": f"blend ({self.blend.evaluation.final_method})",
                         "score": self.blend.evaluation.nested_score,
                         "standard_error": self.blend.uncertainty.fold_se, "fit_seconds": self.blend.seconds,
                         "predict_seconds": float("nan")})
        return pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS).rename(columns={"score": metric})


def fit_approaches(dataset: Dataset, folds: Folds, requests: list[RunRequest], blend_dir: Path, jobs: int = 1,
                   time_limit: float | None = None, blend_options: dict[str, Any] | None = None,
                   submission: Path | str = "none", executor: str = "local",
                   ray_address: str | None = None) -> FitOutcome:
    """Run ``requests`` (``jobs`` fold jobs at a time; with ``time_limit``, its runs get all but a tenth, which the
    blend keeps), then blend the complete runs (``auto``) into ``blend_dir``."""
    started = time.perf_counter()
    run_limit = time_limit * (1 - BLEND_SHARE) if time_limit is not None else None
    results = run_approaches(dataset, requests, jobs=jobs, folds=folds, time_limit=run_limit, executor=executor,
                             ray_address=ray_address)
    finished = [result for result in results if result.complete]
    unfinished = [result.paths.root.name for result in results if not result.complete]
    if unfinished:
        log.warning("not in the blend (unfinished within the time limit): %s", ", ".join(unfinished))
    if not finished:
        raise CatalogError(f"no approach finished its folds within --time-limit {time_limit:g} s: raise it, or run "
                           "the same command again (finished folds are kept)")
    blend = run_blend(dataset, folds, [result.paths.root for result in finished], "auto",
                      {"n_trials": 100, **(blend_options or {})}, blend_dir, submission)
    return FitOutcome(results, blend, time.perf_counter() - started)


def run_row(result: RunResult) -> dict[str, Any]:
    """One leaderboard row of a run: its CV score with the standard error, and its fold seconds."""
    summary = read_json(result.paths.summary)
    folds = result.scores[result.scores["fold"] != "all"] if not result.scores.empty else result.scores
    return {"model": result.paths.root.name, "score": summary.get("score"),
            "standard_error": (summary.get("uncertainty") or {}).get("fold_se", float("nan")),
            "fit_seconds": float(folds["fit_seconds"].sum()) if len(folds) else 0.0,
            "predict_seconds": float(folds["predict_seconds"].sum()) if len(folds) else 0.0}
