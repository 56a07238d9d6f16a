"""The honest blend of several runs, written out: report, per-fold table, blended test predictions, the saved
final blender and a validated submission. ``catalog-ml blend``, ``catalog-ml demo`` and ``Predictor`` call it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.blend.nested import BlendEvaluation, evaluate_blend, methods_of
from catalog_ml.blend.report import write_report
from catalog_ml.blend.saved_blend import encode_blend
from catalog_ml.core.run_files import BlendPaths, markdown_table
from catalog_ml.core.run_reader import load_run_set
from catalog_ml.core.saved_models import write_model
from catalog_ml.core.task import task_of
from catalog_ml.core.uncertainty import ScoreUncertainty, gain_interval, score_uncertainty
from catalog_ml.data.folds import Folds
from catalog_ml.data.loading import Dataset
from catalog_ml.data.submission import write_submission
from catalog_ml.errors import CatalogError
from catalog_ml.folders import exclusive_writer
from catalog_ml.tracking.hooks import track_blend
from catalog_ml.tracking.tracker import Tracker


@dataclass(frozen=True)
class BlendResult:
    """A written blend: its evaluation, the honest score's uncertainty, its folder and how long it took."""

    evaluation: BlendEvaluation
    uncertainty: ScoreUncertainty
    paths: BlendPaths
    seconds: float


def run_blend(dataset: Dataset, folds: Folds, run_dirs: list[Path], method: str, options: dict, out_dir: Path,
              submission: Path | str, average_seeds: bool = False, tracker: Tracker | None = None,
              wait: bool = False) -> BlendEvaluation:
    """Read the runs, evaluate the blend honestly, write the report, the blended test predictions and the
    validated submission (one writer per blend folder: ``wait`` queues behind another); print a summary. One
    path for every task."""
    with exclusive_writer(Path(out_dir), wait=wait):
        return _blend_and_write(dataset, folds, run_dirs, method, options, Path(out_dir), submission, average_seeds,
                                tracker)


def _blend_and_write(dataset: Dataset, folds: Folds, run_dirs: list[Path], method: str, options: dict,
                     out_dir: Path, submission: Path | str, average_seeds: bool,
                     tracker: Tracker | None) -> BlendResult:
    task = task_of(dataset)
    allowed = ["auto", *methods_of(task)]
    if method not in allowed:
        raise CatalogError(f"--method {method} does not blend {task.name} runs: {task.name} blends use "
                           f"{', '.join(allowed)}")
    runs = load_run_set(dataset, folds, run_dirs, average_seeds=average_seeds)
    started = time.perf_counter()
    evaluation = evaluate_blend(method, runs.oof, runs.y, runs.fold, runs.names, options, task)
    seconds = time.perf_counter() - started
    objective = evaluation.objective
    best_single = task.best(runs.names, evaluation.fold_scores.iloc[-1], objective)
    uncertainty = score_uncertainty(task, objective, runs.y, evaluation.nested_oof, runs.fold)
    gain = gain_interval(task, objective, runs.y, evaluation.nested_oof, runs.oof[:, runs.names.index(best_single)])
    notes = [f"honest nested {uncertainty.describe()}", gain.describe("the blend", best_single)]
    paths = BlendPaths(Path(out_dir))
    write_report(paths, runs, evaluation, task, notes)
    write_model(paths.blender, encode_blend(evaluation, run_dirs, average_seeds, dataset.spec, folds.hash,
                                            dataset.classes))
    if runs.test is not None:
        test_pred = evaluation.predict(runs.test)
        write_frame_atomic(paths.test, task.frame(runs.test_ids, test_pred))
        write_submission(runs.test_ids, task.submission_values(test_pred), submission, runs.test_ids,
                         dataset.spec.id_column, dataset.spec.target, classes=dataset.classes or None)
    else:
        submission = "none (the spec names no test file)"
    label = "SMAPE" if objective == "smape" else objective
    print(markdown_table(evaluation.fold_scores))
    print(f"\nblend ({evaluation.method}, final fit: {evaluation.final_method}) over {len(runs.names)} runs "
          f"in {seconds:.1f}s")
    print(f"honest nested {label}: {evaluation.nested_score:.4f}   best single ({best_single}): "
          f"{float(evaluation.fold_scores[best_single].iloc[-1]):.4f}")
    print(f"in-sample {label} (optimistic, weights fitted on the scored rows): {evaluation.in_sample_score:.4f}")
    print("honest nested: " + ", ".join(f"{k} {v:.4f}" for k, v in evaluation.nested_scores.items()))
    print("\n".join(notes))
    print(f"report: {paths.report_md}\nsubmission: {submission}")
    if tracker is not None:
        track_blend(tracker, method, evaluation, runs.names, paths, seconds)
    return BlendResult(evaluation, uncertainty, paths, seconds)
