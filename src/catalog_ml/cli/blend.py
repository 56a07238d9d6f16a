"""Blend approach runs into a submission, honestly scored: the blend's weights (and, for auto, its method) are
fitted on the other folds' out-of-fold rows and scored on the fold left out. ``python ensemble/blend.py ARGS`` is
the same as ``catalog-ml blend ARGS``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from catalog_ml.api.blending import run_blend
from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.run_reader import discover_runs
from catalog_ml.data.folds import load_folds
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name
from catalog_ml.tracking.hooks import tracker_from_args
from catalog_ml.tracking.tracker import add_tracking_arguments

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the script: ``catalog-ml blend`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main as catalog_ml

    return catalog_ml(["blend", *(sys.argv[1:] if argv is None else argv)])
