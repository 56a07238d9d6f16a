"""One output layout per run, written atomically, readable by the ensembler without importing approach code.

runs/<dataset>/<run>/
  config.json            effective config: approach, settings, dataset spec, seed, fold hash
  parts/fold_<k>.*       per-fold pieces (OOF rows, test predictions, scores); a fold is done when its score exists
  oof.parquet            id, fold, pred (every training row once, when all folds are done)
  test.parquet           id, pred (mean over the fold models)
  test_full.parquet      id, pred (the model fitted on all rows, when fold -1 was run)
  scores.csv, scores.md  per-fold table: rows, SMAPE, MAE on log1p, fit and predict seconds
  run.json               status (complete or partial), folds done, overall score
  models/fold_<k>/       each fold's fitted model in safe files (``core.saved_models``), for ``catalog-ml predict``
  per_class.csv, confusion.png   classification: per-class F1 table and the confusion matrix

runs/<dataset>/_blend/<method>/   (``BlendPaths``)
  report.md, fold_scores.csv, weights.csv, blend_oof.parquet, test.parquet, plots, blender/; see ``BlendPaths``
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_ml.atomic import write_frame_atomic, write_json_atomic, write_text_atomic
from catalog_ml.errors import CatalogError

PER_CLASS_CSV = "per_class.csv"
CONFUSION_PNG = "confusion.png"


def fold_label(k: int) -> str:
    return "full" if k < 0 else str(k)


@dataclass(frozen=True)
class RunPaths:
    """Where every file of one run lives."""

    root: Path

    config = property(lambda self: self.root / "config.json")
    oof = property(lambda self: self.root / "oof.parquet")
    test = property(lambda self: self.root / "test.parquet")
    test_full = property(lambda self: self.root / "test_full.parquet")
    scores_csv = property(lambda self: self.root / "scores.csv")
    scores_md = property(lambda self: self.root / "scores.md")
    summary = property(lambda self: self.root / "run.json")
    log = property(lambda self: self.root / "run.log")
    per_class_csv = property(lambda self: self.root / PER_CLASS_CSV)
    confusion_png = property(lambda self: self.root / CONFUSION_PNG)

    def part(self, k: int, kind: str) -> Path:
        suffix = "json" if kind == "score" else "parquet"
        return self.root / "parts" / f"fold_{fold_label(k)}.{kind}.{suffix}"

    def fold_done(self, k: int) -> bool:
        return self.part(k, "score").is_file()

    def model(self, k: int) -> Path:
        return self.root / "models" / f"fold_{fold_label(k)}"


@dataclass(frozen=True)
class BlendPaths:
    """Where every file of one blend lives (``runs/<dataset>/_blend/<method>/`` by default)."""

    root: Path

    report_md = property(lambda self: self.root / "report.md")
    fold_scores_csv = property(lambda self: self.root / "fold_scores.csv")
    weights_csv = property(lambda self: self.root / "weights.csv")
    oof = property(lambda self: self.root / "blend_oof.parquet")
    test = property(lambda self: self.root / "test.parquet")
    error_correlation_csv = property(lambda self: self.root / "error_correlation.csv")
    deciles_csv = property(lambda self: self.root / "smape_by_decile.csv")
    fold_scores_png = property(lambda self: self.root / "fold_scores.png")
    weights_png = property(lambda self: self.root / "weights.png")
    pred_vs_true_png = property(lambda self: self.root / "pred_vs_true.png")
    deciles_png = property(lambda self: self.root / "smape_by_decile.png")
    per_class_csv = property(lambda self: self.root / PER_CLASS_CSV)
    confusion_png = property(lambda self: self.root / CONFUSION_PNG)
    blender = property(lambda self: self.root / "blender")  # the final blender and its members, for predict


def write_fold_part(paths: RunPaths, k: int, oof: pd.DataFrame | None, test: pd.DataFrame | None,
                    score: dict[str, Any]) -> None:
    """Write one finished fold; the score file goes last and marks the fold as done."""
    if oof is not None:
        write_frame_atomic(paths.part(k, "oof"), oof)
    if test is not None:
        write_frame_atomic(paths.part(k, "test"), test)
    write_json_atomic(paths.part(k, "score"), score)


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON file written by this package; a clear error when it is missing or corrupt."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path}: corrupt JSON ({error})") from None


def read_parquet_checked(path: Path, what: str = "parquet file") -> pd.DataFrame:
    """Read a parquet file; missing or corrupt files become one clear CatalogError line."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: {what} missing")
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for corrupt files
        raise CatalogError(f"{path}: corrupt {what} ({type(error).__name__})") from None


def read_fold_score(paths: RunPaths, k: int) -> dict[str, Any]:
    return read_json(paths.part(k, "score"))


def write_score_tables(paths: RunPaths, table: pd.DataFrame) -> None:
    """The per-fold score table as CSV and as a markdown table."""
    write_frame_atomic(paths.scores_csv, table)
    write_text_atomic(paths.scores_md, markdown_table(table) + "\n")


def markdown_table(frame: pd.DataFrame, float_format: str = "{:.4f}") -> str:
    """A plain GitHub markdown table (no extra dependency)."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return float_format.format(value)
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
