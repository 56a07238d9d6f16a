"""What the ensembler writes, for every task: score tables, weights, nested OOF predictions, and the plots a user
would rather look at (error correlations and price deciles for prices, the confusion matrix for classes)."""

from __future__ import annotations

import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from catalog_ml.atomic import write_atomic, write_frame_atomic, write_text_atomic  # noqa: E402
from catalog_ml.blend.nested import BlendEvaluation  # noqa: E402
from catalog_ml.core.class_report import write_class_report  # noqa: E402
from catalog_ml.core.metrics import smape  # noqa: E402
from catalog_ml.core.registry import BASELINE_APPROACH  # noqa: E402
from catalog_ml.core.run_files import BlendPaths, markdown_table  # noqa: E402
from catalog_ml.core.run_reader import RunSet  # noqa: E402
from catalog_ml.core.task import ClassificationTask, Task  # noqa: E402

KNOWN_APPROACHES = ("tfidf_ridge", "lgbm_fusion", "xgb_spacy", "knn_price", "mlp_fusion", "sparse_mlp",
                    "plain_tfidf_ridge", "classical_baselines", "effnet_bert", "clip_vitl", "laion_clip_vith",
                    "median_baseline")


def blend_weights(evaluation: BlendEvaluation, names: tuple[str, ...]) -> pd.DataFrame:
    """One row per approach: its weight in the final blend (NaN for a non-linear stack) and, for price blends, the
    scale factor."""
    if evaluation.final is None:
        return pd.DataFrame({"approach": list(names), "weight": [1.0], "scale": [1.0]})
    weights = pd.DataFrame({"approach": list(names), "weight": evaluation.final.weights_})
    if hasattr(evaluation.final, "scale_"):
        weights["scale"] = evaluation.final.scale_
    return weights


def error_correlation(runs: RunSet) -> pd.DataFrame:
    """Pearson correlation of the approaches' OOF log errors (log1p(pred) - log1p(true))."""
    errors = np.log1p(runs.oof) - np.log1p(runs.y)[:, None]
    if errors.shape[1] == 1:
        return pd.DataFrame([[1.0]], index=list(runs.names), columns=list(runs.names))
    return pd.DataFrame(np.corrcoef(errors, rowvar=False), index=list(runs.names), columns=list(runs.names))


def decile_table(runs: RunSet, blended: np.ndarray) -> pd.DataFrame:
    """SMAPE by true-price decile, for every approach and the (nested) blend."""
    deciles = pd.qcut(runs.y, 10, labels=False, duplicates="drop")
    rows = []
    for d in np.unique(deciles):
        mask = deciles == d
        row = {"decile": int(d) + 1, "median_price": float(np.median(runs.y[mask]))}
        row.update({name: smape(runs.y[mask], runs.oof[mask, j]) for j, name in enumerate(runs.names)})
        row["blend"] = smape(runs.y[mask], blended[mask])
        rows.append(row)
    return pd.DataFrame(rows)


def write_report(paths: BlendPaths, runs: RunSet, evaluation: BlendEvaluation, task: Task,
                 notes: list[str] | None = None) -> dict[str, Path]:
    """Write the blend's tables (CSV and markdown), nested OOF predictions and plots; returns the written paths.
    Price blends add error correlations, SMAPE by price decile and their plots; probability blends the per-class
    table and the confusion matrix."""
    paths.root.mkdir(parents=True, exist_ok=True)
    weights = blend_weights(evaluation, runs.names)
    written = {
        "fold_scores_csv": write_frame_atomic(paths.fold_scores_csv, evaluation.fold_scores),
        "weights_csv": write_frame_atomic(paths.weights_csv, weights),
        "blend_oof": write_frame_atomic(paths.oof, task.frame(runs.train_ids, evaluation.nested_oof, runs.fold)),
    }
    scores = pd.DataFrame([{"scores": "nested (honest)", **evaluation.nested_scores},
                           {"scores": "in-sample (optimistic: weights fitted on the rows scored)",
                            **evaluation.in_sample_scores}])
    sections = [f"method: {evaluation.method} (final fit: {evaluation.final_method}); minimises "
                f"{evaluation.objective}", markdown_table(scores), *(notes or []),
                f"## Per-fold {evaluation.objective} (blend column: nested)", markdown_table(evaluation.fold_scores),
                "## Weights", markdown_table(weights)]
    if isinstance(task, ClassificationTask):
        write_class_report(paths, runs.y, evaluation.nested_oof, task.classes)
        written.update(per_class_csv=paths.per_class_csv, confusion_png=paths.confusion_png)
    else:
        correlation = error_correlation(runs)
        deciles = decile_table(runs, evaluation.nested_oof)
        written["error_correlation_csv"] = write_frame_atomic(paths.error_correlation_csv,
                                                              correlation.reset_index(names="approach"))
        written["deciles_csv"] = write_frame_atomic(paths.deciles_csv, deciles)
        sections += ["## Correlation of OOF log errors",
                     markdown_table(correlation.reset_index(names="approach"), "{:.3f}")]
        written.update(_plots(paths, runs, evaluation, weights, deciles))
    written["report_md"] = write_text_atomic(paths.report_md, "\n\n".join(sections) + "\n")
    return written


def plotted_columns(names: tuple[str, ...]) -> list[str]:
    """The approaches a comparison chart shows, then the blend: a constant baseline is left out (it would stretch
    the axis until the differences that matter vanish), unless nothing else is there."""
    shown = [name for name in names if not name.startswith(BASELINE_APPROACH)]
    return [*(shown or names), "blend"]


def approach_colour(name: str) -> tuple[float, ...]:
    """One colour per approach, the same on every dataset and chart: the kit's approaches have their own; any
    other name (a new approach) gets one from its name, never from its position."""
    if name == "blend":
        return (0.0, 0.0, 0.0, 1.0)
    palette = plt.get_cmap("tab20").colors
    base = name.split("-")[0]
    if base in KNOWN_APPROACHES:  # the first ten take tab20's dark shades, the others its light ones
        index = KNOWN_APPROACHES.index(base)
        return palette[2 * index if index < 10 else 2 * (index - 10) + 1]
    return palette[zlib.crc32(base.encode()) % len(palette)]


def _zoomed(values: np.ndarray) -> tuple[float, float]:
    """Axis limits around the values (not from 0), so that 20.5 against 21.1 is visible."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    margin = max((high - low) * 0.15, abs(high) * 0.01, 1e-6)
    return low - margin, high + margin


def _save(figure: plt.Figure, path: Path) -> Path:
    write_atomic(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(figure)
    return path


def _plots(paths: BlendPaths, runs: RunSet, evaluation: BlendEvaluation, weights: pd.DataFrame,
           deciles: pd.DataFrame) -> dict[str, Path]:
    table = evaluation.fold_scores[evaluation.fold_scores["fold"] != "all"]
    columns = plotted_columns(runs.names)
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(table) * len(columns) / 3), 4))
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        axis.bar(np.arange(len(table)) + i * width, table[column], width, label=column, color=approach_colour(column))
    axis.set_xticks(np.arange(len(table)) + 0.4 - width / 2, [f"fold {f}" for f in table["fold"]])
    axis.set_ylim(*_zoomed(table[columns].to_numpy()))
    axis.set_ylabel("SMAPE (lower is better)")
    axis.set_title(f"Per-fold SMAPE; blend = nested {evaluation.method} ({evaluation.nested_score:.2f})")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    written = {"fold_scores_png": _save(figure, paths.fold_scores_png)}

    figure, axis = plt.subplots(figsize=(6, 0.5 * len(weights) + 1.5))
    axis.barh(weights["approach"], weights["weight"].fillna(0.0))
    axis.set_xlabel(f"weight (scale factor {float(weights['scale'].iloc[0]):.3f})")
    axis.set_title(f"Blend weights ({evaluation.final_method})")
    written["weights_png"] = _save(figure, paths.weights_png)

    figure, axis = plt.subplots(figsize=(5.5, 5))
    axis.scatter(runs.y, evaluation.nested_oof, s=4, alpha=0.3)
    low, high = float(min(runs.y.min(), evaluation.nested_oof.min())), float(max(runs.y.max(),
                                                                                 evaluation.nested_oof.max()))
    axis.plot([low, high], [low, high], color="black", linewidth=1)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("true price")
    axis.set_ylabel("blended OOF prediction (nested)")
    axis.set_title("Predicted vs true price")
    written["pred_vs_true_png"] = _save(figure, paths.pred_vs_true_png)

    figure, axis = plt.subplots(figsize=(7, 4))
    for column in columns:
        axis.plot(deciles["decile"], deciles[column], marker="o", label=column, color=approach_colour(column),
                  linewidth=2.5 if column == "blend" else 1.2)
    axis.set_xlabel("true-price decile (1 = cheapest)")
    axis.set_ylabel("SMAPE")
    axis.set_title("SMAPE by price decile")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    written["deciles_png"] = _save(figure, paths.deciles_png)
    return written
