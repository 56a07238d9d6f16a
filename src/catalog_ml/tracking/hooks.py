"""What the command-line runs and blends send to the tracker (see ``catalog_ml.tracking.tracker``)."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from catalog_ml.core.run_files import BlendPaths, read_json
from catalog_ml.tracking.tracker import Tracker, resolve_tracking_uri


def tracker_from_args(args: argparse.Namespace, dataset_name: str) -> Tracker:
    """A tracker for the dataset's experiment (inactive unless tracking was asked for)."""
    uri = resolve_tracking_uri(getattr(args, "track", False), getattr(args, "tracking_uri", None))
    return Tracker(uri, f"catalog_ml/{dataset_name}")


def _fold_rows(scores: pd.DataFrame) -> list[dict[str, float]]:
    numeric = scores[scores["fold"].astype(str) != "all"]
    keep = [c for c in numeric.columns if c != "fold" and pd.api.types.is_numeric_dtype(numeric[c])]
    return numeric[keep].to_dict("records")


def track_approach_run(tracker: Tracker, result: Any, wall_seconds: float) -> str | None:
    """Log one approach run: its effective config, per-fold and overall metrics, timing and output files."""
    paths = result.paths
    config = read_json(paths.config)
    overall = result.scores[result.scores["fold"].astype(str) == "all"]
    metrics = {f"cv_{k}": v for k, v in (overall.iloc[0].to_dict() if len(overall) else {}).items() if k != "fold"}
    metrics["wall_seconds"] = wall_seconds
    files = [paths.oof, paths.test, paths.test_full, paths.scores_csv, paths.config, paths.summary]
    return tracker.log_run(f"run/{paths.root.name}", {"approach": config.get("approach"), "seed": config.get("seed"),
                                                       "settings": config.get("settings", {}),
                                                       "fold_hash": config.get("folds", {}).get("hash"),
                                                       "dataset": config.get("dataset", {}).get("name")},
                           metrics, _fold_rows(result.scores), files, tags={"complete": result.complete})


def track_blend(tracker: Tracker, method: str, evaluation: Any, names: tuple[str, ...], paths: BlendPaths,
                wall_seconds: float) -> str | None:
    """Log one blend of any task: method, runs, weights, every honest (nested) and in-sample score, report files."""
    weights = getattr(evaluation.final, "weights_", None)
    params: dict[str, Any] = {"method": method, "chosen_method": evaluation.final_method,
                              "objective": evaluation.objective, "runs": ",".join(names)}
    if weights is not None:
        params["weights"] = {name: round(float(w), 6) for name, w in zip(names, weights, strict=False)}
    metrics = {"nested_score": evaluation.nested_score, "in_sample_score": evaluation.in_sample_score,
               **{f"nested_{k}": v for k, v in evaluation.nested_scores.items()},
               **{f"in_sample_{k}": v for k, v in evaluation.in_sample_scores.items()},
               "wall_seconds": wall_seconds}
    files = [path for path in (paths.report_md, paths.weights_csv, paths.fold_scores_csv) if path.is_file()]
    return tracker.log_run(f"blend/{method}", params, metrics, None, files)
