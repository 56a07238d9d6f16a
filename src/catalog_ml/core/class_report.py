"""Per-class F1 table and confusion-matrix PNG of a classification run's out-of-fold predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.core.run_files import BlendPaths, RunPaths
from catalog_ml.data.classes import predicted_labels

MAX_PLOTTED_CLASSES = 40


def per_class_table(y_true: np.ndarray, proba: np.ndarray, classes: tuple[str, ...]) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class (rows sorted by support, largest first)."""
    predicted = predicted_labels(proba, classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=list(classes), zero_division=0)
    table = pd.DataFrame({"class": classes, "support": support, "precision": precision, "recall": recall,
                          "f1": f1})
    return table.sort_values(["support", "class"], ascending=[False, True], kind="stable").reset_index(drop=True)


def save_confusion_png(y_true: np.ndarray, proba: np.ndarray, classes: tuple[str, ...], path: Path,
                       title: str = "") -> None:
    """Row-normalised confusion matrix (recall on the diagonal); with many classes, the most frequent ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = list(pd.Series(y_true).value_counts().index[:MAX_PLOTTED_CLASSES])
    shown = [c for c in classes if c in set(shown)]
    predicted = predicted_labels(proba, classes)
    keep = np.isin(y_true, shown)
    matrix = confusion_matrix(np.asarray(y_true)[keep], predicted[keep], labels=shown).astype(float)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    side = max(4.0, 0.35 * len(shown) + 2.0)
    figure, axis = plt.subplots(figsize=(side + 1.0, side))
    image = axis.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    axis.set_xticks(range(len(shown)), [c[:24] for c in shown], rotation=90, fontsize=7)
    axis.set_yticks(range(len(shown)), [c[:24] for c in shown], fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    more = f" ({len(shown)} most frequent of {len(classes)} classes)" if len(shown) < len(classes) else ""
    axis.set_title((title + more).strip(), fontsize=9)
    if len(shown) <= 12:
        for i in range(len(shown)):
            for j in range(len(shown)):
                axis.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=6,
                          color="white" if matrix[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of the true class's rows")
    temporary = Path(path).with_suffix(".tmp.png")
    figure.savefig(temporary, dpi=120, bbox_inches="tight")  # long class names are never cut
    plt.close(figure)
    temporary.replace(path)


def write_class_report(paths: RunPaths | BlendPaths, y_true: np.ndarray, proba: np.ndarray,
                       classes: tuple[str, ...]) -> None:
    """``per_class.csv`` and ``confusion.png`` next to a run's (or a blend's) score table."""
    write_frame_atomic(paths.per_class_csv, per_class_table(y_true, proba, classes))
    save_confusion_png(y_true, proba, classes, paths.confusion_png, title=paths.root.name)
