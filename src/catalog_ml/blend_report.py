"""What the ensembler writes: score tables, weights, error correlations and plots a user would rather look at."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from catalog_ml.atomic import write_atomic, write_frame_atomic, write_text_atomic  # noqa: E402
from catalog_ml.blend_eval import BlendEvaluation  # noqa: E402
from catalog_ml.metrics import smape  # noqa: E402
from catalog_ml.outputs import markdown_table  # noqa: E402
from catalog_ml.run_reader import RunSet  # noqa: E402


def blend_weights(evaluation: BlendEvaluation, names: tuple[str, ...]) -> pd.DataFrame:
    """One row per approach: its weight in the final blend (NaN for a non-linear stack) and the scale factor."""
    if evaluation.final is None:
        return pd.DataFrame({"approach": list(names), "weight": [1.0], "scale": [1.0]})
    return pd.DataFrame({"approach": list(names), "weight": evaluation.final.weights_,
                         "scale": evaluation.final.scale_})


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


def write_report(out_dir: Path, runs: RunSet, evaluation: BlendEvaluation) -> dict[str, Path]:
    """Write tables (CSV and markdown) and PNG plots into ``out_dir``; returns the written paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = blend_weights(evaluation, runs.names)
    correlation = error_correlation(runs)
    deciles = decile_table(runs, evaluation.nested_oof)
    written = {
        "fold_scores_csv": write_frame_atomic(out_dir / "fold_scores.csv", evaluation.fold_scores),
        "weights_csv": write_frame_atomic(out_dir / "weights.csv", weights),
        "error_correlation_csv": write_frame_atomic(out_dir / "error_correlation.csv",
                                                    correlation.reset_index(names="approach")),
        "deciles_csv": write_frame_atomic(out_dir / "smape_by_decile.csv", deciles),
        "blend_oof": write_frame_atomic(out_dir / "blend_oof.parquet",
                                        pd.DataFrame({"id": runs.train_ids, "fold": runs.fold,
                                                      "pred": evaluation.nested_oof})),
    }
    summary = (f"method: {evaluation.method} (final fit: {evaluation.final_method})\n\n"
               f"honest (nested) SMAPE: {evaluation.nested_score:.4f}\n"
               f"in-sample SMAPE (optimistic: weights fitted on the rows scored): {evaluation.in_sample_score:.4f}"
               f"\n\n## Per-fold SMAPE (blend column: nested)\n\n{markdown_table(evaluation.fold_scores)}\n\n"
               f"## Weights\n\n{markdown_table(weights)}\n\n## Correlation of OOF log errors\n\n"
               f"{markdown_table(correlation.reset_index(names='approach'), '{:.3f}')}\n")
    written["report_md"] = write_text_atomic(out_dir / "report.md", summary)
    written.update(_plots(out_dir, runs, evaluation, weights, deciles))
    return written


def _save(figure: plt.Figure, path: Path) -> Path:
    write_atomic(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(figure)
    return path


def _plots(out_dir: Path, runs: RunSet, evaluation: BlendEvaluation, weights: pd.DataFrame,
           deciles: pd.DataFrame) -> dict[str, Path]:
    table = evaluation.fold_scores[evaluation.fold_scores["fold"] != "all"]
    columns = [*runs.names, "blend"]
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(table) * len(columns) / 3), 4))
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        axis.bar(np.arange(len(table)) + i * width, table[column], width, label=column)
    axis.set_xticks(np.arange(len(table)) + 0.4 - width / 2, [f"fold {f}" for f in table["fold"]])
    axis.set_ylabel("SMAPE (lower is better)")
    axis.set_title(f"Per-fold SMAPE; blend = nested {evaluation.method} ({evaluation.nested_score:.2f})")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    paths = {"fold_scores_png": _save(figure, out_dir / "fold_scores.png")}

    figure, axis = plt.subplots(figsize=(6, 0.5 * len(weights) + 1.5))
    axis.barh(weights["approach"], weights["weight"].fillna(0.0))
    axis.set_xlabel(f"weight (scale factor {float(weights['scale'].iloc[0]):.3f})")
    axis.set_title(f"Blend weights ({evaluation.final_method})")
    paths["weights_png"] = _save(figure, out_dir / "weights.png")

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
    paths["pred_vs_true_png"] = _save(figure, out_dir / "pred_vs_true.png")

    figure, axis = plt.subplots(figsize=(7, 4))
    for column in columns:
        axis.plot(deciles["decile"], deciles[column], marker="o", label=column,
                  linewidth=2.5 if column == "blend" else 1.2)
    axis.set_xlabel("true-price decile (1 = cheapest)")
    axis.set_ylabel("SMAPE")
    axis.set_title("SMAPE by price decile")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    paths["deciles_png"] = _save(figure, out_dir / "smape_by_decile.png")
    return paths
