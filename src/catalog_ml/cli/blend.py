"""Blend approach runs into a submission, honestly scored: the blend's weights (and, for auto, its method) are
fitted on the other folds' out-of-fold rows and scored on the fold left out. ``python ensemble/blend.py ARGS`` is
the same as ``catalog-ml blend ARGS``."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.blend.nested import BlendEvaluation, evaluate_blend, methods_of
from catalog_ml.blend.report import write_report
from catalog_ml.blend.saved_blend import encode_blend
from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.run_files import BlendPaths, markdown_table
from catalog_ml.core.run_reader import discover_runs, load_run_set
from catalog_ml.core.saved_models import write_model
from catalog_ml.core.task import task_of
from catalog_ml.core.uncertainty import gain_interval, score_uncertainty
from catalog_ml.data.folds import Folds, load_folds
from catalog_ml.data.loading import Dataset
from catalog_ml.data.submission import write_submission
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name, exclusive_writer
from catalog_ml.tracking.hooks import track_blend, tracker_from_args
from catalog_ml.tracking.tracker import Tracker, add_tracking_arguments

log = logging.getLogger(__name__)

METHODS_HELP = """methods:
  auto    pick the method with the best nested score (the choice itself is made inside each outer fold)
  mean    equal weights: arithmetic, geometric or harmonic mean, whichever scores best on the fitting rows
  grid    exhaustive simplex weights, coarse (0.1) then fine (0.02) around the best point; up to 4 approaches
  optuna  Optuna TPE search over simplex weights minimising SMAPE (--trials, --storage to share one study)
  hill    Caruana greedy forward selection with replacement, starting from the best single approach
  stack   level-2 model on log predictions: ridge (--stack-model ridge) or a small GBM (--stack-model gbm)
Every weighted method ends with a SMAPE-optimal global scale factor (0.85-1.15) unless --no-scale.

Classification datasets blend class probabilities: auto, mean, optuna (weights minimising --objective) or stack
(multinomial logistic regression on the runs' log probabilities); the submission holds the arg-max label, and
test.parquet the blended probabilities.

The reported score is nested: for each fold, weights, scale and (auto) method are fitted on the other folds' OOF
rows and scored on that fold. The in-sample score is printed beside it and labelled optimistic.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = METHODS_HELP
    add_dataset_arguments(parser)
    parser.add_argument("--method", default="auto", choices=["auto", "mean", "grid", "optuna", "hill", "stack"])
    parser.add_argument("--runs", default=None, help="comma-separated run folder names (default: every run)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--out-dir", type=Path, default=None, help="default: RUNS_DIR/DATASET/_blend/METHOD")
    parser.add_argument("--submission", type=Path, default=None,
                        help="default: submissions/DATASET_blend_METHOD.csv")
    parser.add_argument("--trials", type=int, default=300, help="Optuna trials")
    parser.add_argument("--storage", default=None, help="Optuna storage URL, e.g. sqlite:///blend.db")
    parser.add_argument("--study-name", default=None, help="Optuna study name (with --storage)")
    parser.add_argument("--stack-model", default="ridge", choices=["ridge", "gbm"])
    parser.add_argument("--no-scale", action="store_true", help="no global scale factor")
    parser.add_argument("--objective", default=None, choices=["log_loss", "accuracy", "macro_f1", "weighted_f1"],
                        help="classification: what optuna and auto optimise and the per-fold table reports "
                             "(default: the spec's metric)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every blender")
    add_tracking_arguments(parser)
    parser.add_argument("--wait", action="store_true",
                        help="when another process is writing the same blend folder, wait for it instead of stopping")
    parser.add_argument("--average-seeds", action="store_true",
                        help="average the runs NAME-seedN of one approach (from run --seeds) before blending")
    parser.add_argument("-v", "--verbose", action="store_true")


def handle(args: argparse.Namespace) -> int:
    dataset = dataset_from_args(args, require_test=True)
    folds = load_folds(dataset)
    available = discover_runs(args.runs_dir, dataset.spec.name)
    if args.runs:
        wanted = [check_name(name.strip(), "run name") for name in args.runs.split(",") if name.strip()]
        unknown = [name for name in wanted if not (args.runs_dir / dataset.spec.name / name).is_dir()]
        if unknown:
            raise CatalogError(f"no run folder(s) {', '.join(unknown)} under {args.runs_dir / dataset.spec.name} "
                               f"(found: {', '.join(p.name for p in available)})")
        if len(set(wanted)) != len(wanted):
            raise CatalogError(f"--runs names a run twice: {args.runs}")
        run_dirs = [args.runs_dir / dataset.spec.name / name for name in wanted]
    else:
        run_dirs = available
    options = {"n_trials": args.trials, "storage": args.storage, "study_name": args.study_name,
               "stack_model": args.stack_model, "random_state": args.seed, "scale": not args.no_scale,
               "objective": args.objective or dataset.spec.metric}
    out_dir = args.out_dir or args.runs_dir / dataset.spec.name / "_blend" / args.method
    submission = args.submission or Path("submissions") / f"{dataset.spec.name}_blend_{args.method}.csv"
    tracker = tracker_from_args(args, dataset.spec.name)
    try:
        run_blend(dataset, folds, run_dirs, args.method, options, out_dir, submission, args.average_seeds, tracker,
                  wait=args.wait)
    finally:
        tracker.close()
    return 0


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
                     tracker: Tracker | None) -> BlendEvaluation:
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
    return evaluation


def main(argv: list[str] | None = None) -> int:
    """Entry point of the script: ``catalog-ml blend`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main as catalog_ml

    return catalog_ml(["blend", *(sys.argv[1:] if argv is None else argv)])
