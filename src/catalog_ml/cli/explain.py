"""Fit a gradient-boosting approach on one fold's training rows (exactly as the runner fits that fold) and
explain its predictions on the fold's validation rows: gain importance, mean |SHAP contribution| per feature (the
GBM's own ``pred_contrib``), and the strongest contributions behind the best and worst predicted products."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.config import build_config
from catalog_ml.core.fold_jobs import fit_fold
from catalog_ml.core.metrics import row_smape
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_request import RunRequest
from catalog_ml.core.task import RegressionTask, task_of
from catalog_ml.data.folds import load_folds
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

ADDITIVITY_TOLERANCE = 1e-3  # log1p units: LightGBM and XGBoost compute contributions in float64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("approach", help="lgbm_fusion or xgb_spacy (approaches with an explain view)")
    add_dataset_arguments(parser)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="approach settings")
    parser.add_argument("--fold", type=int, default=0, help="fit on the other folds, explain this one (default: 0)")
    parser.add_argument("--seed", type=int, default=42, help="run seed, as in catalog-ml run (default: 42)")
    parser.add_argument("--top", type=int, default=25, help="features in the chart and per explained row")
    parser.add_argument("--rows", type=int, default=5, help="best and worst predicted rows to explain")
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"), help="feature cache folder")
    parser.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/APPROACH")


def handle(args: argparse.Namespace) -> int:
    approach_class = get_approach(args.approach)
    dataset = dataset_from_args(args)
    spec = dataset.spec
    if not isinstance(task_of(dataset), RegressionTask):
        raise CatalogError(f"explain explains price models (log1p contributions); {spec.name} is a "
                           f"{spec.task} dataset")
    folds = load_folds(dataset)
    if not 0 <= args.fold < folds.n_folds:
        raise CatalogError(f"--fold {args.fold}: the fold file has folds 0..{folds.n_folds - 1}")
    request = RunRequest(approach=approach_class, config=build_config(approach_class.Config, overrides=args.set),
                         seed=args.seed, cache_dir=args.cache_dir, progress=False)
    fitted = fit_fold(dataset, folds, request, args.fold)
    model, valid = fitted.model, fitted.valid
    explanation = model.explain(valid)
    if explanation is None:
        raise CatalogError(f"approach '{args.approach}' has no explain view (lgbm_fusion and xgb_spacy have one)")
    contributions = explanation.contributions
    prices = model.predict(valid)
    check_additivity(contributions, prices, args.approach)
    features = contributions[:, :-1]
    mean_abs = np.asarray(abs(features).mean(axis=0)).ravel() if sparse.issparse(features) else np.abs(
        features).mean(axis=0)
    table = pd.DataFrame({"feature": explanation.feature_names, "gain": explanation.gain,
                          "mean_abs_contribution": mean_abs}).sort_values("mean_abs_contribution",
                                                                          ascending=False)
    out = args.out or Path("runs") / spec.name / "_explain" / args.approach
    write_frame_atomic(out / "importance.csv", table)
    truth = valid[spec.target].to_numpy(dtype=float)
    errors = row_smape(truth, prices)
    order = np.argsort(errors)
    picked = [("best", i) for i in order[:args.rows]] + [("worst", i) for i in order[::-1][:args.rows]]
    rows = []
    for label, i in picked:
        row = contributions[i].toarray().ravel() if sparse.issparse(contributions) else contributions[i]
        top = np.argsort(-np.abs(row[:-1]))[:args.top // 5 or 5]
        rows.append({"which": label, "id": valid[spec.id_column].iloc[i], "price": truth[i], "predicted": prices[i],
                     "row_smape": errors[i], "base_log_price": row[-1],
                     "top_contributions": "; ".join(f"{explanation.feature_names[j]} {row[j]:+.3f}" for j in top)})
    write_frame_atomic(out / "rows.csv", pd.DataFrame(rows))
    _importance_chart(table.head(args.top), out / "importance.png", f"{args.approach} on {spec.name}, fold "
                      f"{args.fold}: mean |SHAP contribution| (log1p price)")
    print(table.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nwritten: {out / 'importance.csv'}, {out / 'importance.png'}, {out / 'rows.csv'} "
          f"(best and worst {args.rows} rows with their strongest contributions)")
    return 0


def check_additivity(contributions: np.ndarray | sparse.spmatrix, prices: np.ndarray, approach: str) -> None:
    """SHAP contributions must add up to each row's log1p prediction, or the ranking they give is meaningless:
    refuse when most rows miss, warn when a few do (rows whose prediction was clipped are not compared)."""
    total = np.asarray(contributions.sum(axis=1)).ravel()
    log_price = np.log1p(prices)
    compared = (log_price > np.log1p(0.0101)) & (log_price < 19.99)
    gap = np.abs(total - log_price)[compared]
    if not gap.size:
        return
    if np.median(gap) > ADDITIVITY_TOLERANCE:
        raise CatalogError(f"{approach}: the SHAP contributions do not add up to the predictions (median gap "
                           f"{np.median(gap):.3g} log units over {gap.size} rows), so no ranking is written; very "
                           "deep trees cause this: refit with a depth limit (--set max_depth=16)")
    off = int((gap > ADDITIVITY_TOLERANCE).sum())
    if off:
        log.warning("%s: %d of %d rows' contributions miss their prediction by more than %g (largest %.3g)",
                    approach, off, gap.size, ADDITIVITY_TOLERANCE, gap.max())


def _importance_chart(table: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 0.3 * len(table) + 1.5))
    axis.barh(table["feature"].str.slice(0, 40)[::-1], table["mean_abs_contribution"][::-1])
    axis.set(title=title, xlabel="mean |contribution|")
    axis.title.set_fontsize(9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
