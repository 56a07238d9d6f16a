"""The classification side of ``ensemble/blend.py``: blend the runs' class probabilities, write the report, the
blended probabilities and a label submission (``id,<target>``)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from catalog_ml.atomic import write_frame_atomic, write_text_atomic
from catalog_ml.class_report import write_class_report
from catalog_ml.classes import predicted_labels, proba_frame
from catalog_ml.errors import CatalogError
from catalog_ml.folds import Folds
from catalog_ml.loading import Dataset
from catalog_ml.metrics import LOWER_IS_BETTER
from catalog_ml.outputs import markdown_table
from catalog_ml.proba_blend import ProbaBlendEvaluation, evaluate_proba_blend
from catalog_ml.run_reader import load_run_set


def run_proba_blend(dataset: Dataset, folds: Folds, run_dirs: list[Path], method: str, options: dict,
                    out_dir: Path, submission: Path | str, average_seeds: bool = False) -> ProbaBlendEvaluation:
    """Read the runs' probabilities, evaluate the blend honestly, write report, probabilities and submission."""
    if method not in ("auto", "mean", "optuna", "stack"):
        raise CatalogError(f"--method {method} is for price blends; classification blends use auto, mean, optuna "
                           "or stack")
    objective = options["objective"]
    runs = load_run_set(dataset, folds, run_dirs, average_seeds=average_seeds)
    started = time.perf_counter()
    evaluation = evaluate_proba_blend(method, runs.oof, runs.y, runs.fold, runs.names, dataset.classes, objective,
                                      options["random_state"], options["n_trials"])
    seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = pd.DataFrame({"approach": runs.names, "weight": evaluation.final.weights_})
    write_frame_atomic(out_dir / "fold_scores.csv", evaluation.fold_scores)
    write_frame_atomic(out_dir / "weights.csv", weights)
    write_frame_atomic(out_dir / "blend_oof.parquet",
                       proba_frame(runs.train_ids, evaluation.nested_oof, dataset.classes, fold=None))
    write_class_report(out_dir, runs.y, evaluation.nested_oof, dataset.classes)
    scores = pd.DataFrame([{"scores": "nested (honest)", **evaluation.nested_scores},
                           {"scores": "in-sample (optimistic)", **evaluation.in_sample_scores}])
    write_text_atomic(out_dir / "report.md", (
        f"method: {evaluation.method} (final fit: {evaluation.final_method}); objective: {objective}\n\n"
        f"{markdown_table(scores)}\n\n## Per-fold {objective} (blend column: nested)\n\n"
        f"{markdown_table(evaluation.fold_scores)}\n\n## Weights\n\n{markdown_table(weights)}\n"))
    if runs.test is not None:
        test_proba = evaluation.final.predict(runs.test)
        write_frame_atomic(out_dir / "test_proba.parquet", proba_frame(runs.test_ids, test_proba, dataset.classes))
        labels = pd.DataFrame({dataset.spec.id_column: runs.test_ids,
                               dataset.spec.target: predicted_labels(test_proba, dataset.classes)})
        write_frame_atomic(Path(submission), labels)
    else:
        submission = "none (the spec names no test file)"
    overall = evaluation.fold_scores.iloc[-1]
    pick = min if LOWER_IS_BETTER[objective] else max
    best_single = pick(runs.names, key=lambda n: float(overall[n]))
    print(markdown_table(evaluation.fold_scores))
    print(f"\nblend ({evaluation.method}, final fit: {evaluation.final_method}) over {len(runs.names)} runs "
          f"in {seconds:.1f}s")
    print("honest nested: " + ", ".join(f"{k} {v:.4f}" for k, v in evaluation.nested_scores.items())
          + f"   best single on {objective} ({best_single}): {float(overall[best_single]):.4f}")
    print("in-sample (optimistic): " + ", ".join(f"{k} {v:.4f}" for k, v in evaluation.in_sample_scores.items()))
    print(f"report: {out_dir / 'report.md'}\nsubmission: {submission}")
    return evaluation

