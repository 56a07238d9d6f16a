"""Run one approach on the shared folds through the runner: out-of-fold and test predictions, a per-fold score
table and the effective config in RUNS_DIR/DATASET/RUN. Finished folds are kept: the same command resumes.
``python approaches/NAME.py ARGS`` is the same as ``catalog-ml run NAME ARGS``.

catalog-ml run NAME --help lists NAME's settings (change them with --set KEY=VALUE)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from catalog_ml.cli.common import (
    add_dataset_arguments,
    add_device_argument,
    dataset_from_args,
    progress_enabled,
    select_device,
    spec_from_args,
)
from catalog_ml.core.approach import Approach
from catalog_ml.core.config import build_config, describe_settings
from catalog_ml.core.registry import get_approach
from catalog_ml.core.resources import use_threads
from catalog_ml.core.run_files import markdown_table
from catalog_ml.core.runner import RunRequest, is_main_process, run_approach
from catalog_ml.core.seed_runs import parse_seed_list, seed_run_tag, seed_spread
from catalog_ml.errors import CatalogError
from catalog_ml.tracking.hooks import track_approach_run, tracker_from_args
from catalog_ml.tracking.tracker import Tracker, add_tracking_arguments

log = logging.getLogger(__name__)


class _ApproachHelp(argparse.Action):
    """``--help``: the run options, then the settings of the approach named before it (or the approach list)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show this help and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from catalog_ml.core.registry import approach_names

        parser.print_help()
        name = getattr(namespace, "approach", None)
        if name in approach_names():
            approach = get_approach(name)
            settings = describe_settings(approach.Config) or "  (none)"
            print(f"\n{name}: {(approach.__doc__ or '').strip()}\n\nsettings (use --set KEY=VALUE):\n{settings}")
        else:
            print(f"\napproaches: {', '.join(approach_names())}")
        parser.exit()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The approach name and the options every approach run takes."""
    parser.add_argument("-h", "--help", action=_ApproachHelp)
    parser.add_argument("approach", nargs="?", help="a registered approach (catalog-ml list)")
    add_run_arguments(parser, dataset_required=False)


def handle(args: argparse.Namespace) -> int:
    if args.approach is None:
        from catalog_ml.core.registry import approach_names

        raise CatalogError(f"name an approach: catalog-ml run NAME (approaches: {', '.join(approach_names())})")
    if args.dataset is None:
        raise CatalogError("--dataset is required: a built-in spec name or a spec YAML file")
    return execute_run(get_approach(args.approach), args)


def add_run_arguments(parser: argparse.ArgumentParser, dataset_required: bool = True) -> None:
    """The options every approach run takes."""
    add_dataset_arguments(parser, required=dataset_required)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change one approach setting (repeatable); settings not given keep their defaults")
    parser.add_argument("--config", type=Path, default=None, help="YAML file of approach settings")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--folds", default=None, help="comma-separated folds to run, e.g. 0,1 (default: all)")
    which.add_argument("--fold", type=int, default=None, help="a single fold; -1 fits on all training rows")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=42, help="run seed (each fold derives its own)")
    seeds.add_argument("--seeds", default=None, help="several seeds, e.g. 0,1,2: one run each on the same folds "
                                                     "(tag seedN), then the mean and standard deviation per fold")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="output root: RUNS_DIR/DATASET/RUN")
    parser.add_argument("--tag", default=None, help="suffix for the run folder, to keep variants side by side")
    parser.add_argument("--overwrite", action="store_true", help="discard an existing run folder with another config")
    parser.add_argument("--wait", action="store_true",
                        help="when another process is writing the same run folder, wait for it instead of stopping")
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"), help="feature cache folder")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for the models (default: the CPUs this process may use)")
    add_device_argument(parser)
    parser.add_argument("--jobs", type=int, default=1,
                        help="folds fitted side by side in separate processes, each with threads / jobs; the "
                             "outputs equal a sequential run's (default: 1)")
    saving = parser.add_mutually_exclusive_group()
    saving.add_argument("--no-save-models", dest="save_models", action="store_false", default=None,
                        help="do not keep the fitted fold models (catalog-ml predict needs them)")
    saving.add_argument("--save-models", dest="save_models", action="store_true",
                        help="keep the fitted fold models also for the deep approaches (their weights take GBs "
                             "a fold; the other approaches keep theirs by default)")
    add_tracking_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def parse_fold_list(folds: str | None, fold: int | None) -> tuple[int, ...] | None:
    if fold is not None:
        return (fold,)
    if folds is None:
        return None
    try:
        return tuple(int(part) for part in folds.split(",") if part.strip())
    except ValueError:
        raise CatalogError(f"--folds expects comma-separated integers, got {folds!r}") from None


def execute_run(approach: type[Approach], args: argparse.Namespace) -> int:
    """Run ``approach`` with parsed arguments and print its per-fold table."""
    config = build_config(approach.Config, args.config, args.set)
    use_threads(args.threads)
    select_device(args.device)
    seeds = parse_seed_list(args.seeds) if args.seeds else None
    tracker = tracker_from_args(args, spec_from_args(args).name)
    try:
        _run_seeds(approach, config, seeds, args, tracker)
    finally:
        tracker.close()
    return 0


def _run_seeds(approach: type[Approach], config: object, seeds: tuple[int, ...] | None, args: argparse.Namespace,
               tracker: Tracker) -> None:
    dataset = dataset_from_args(args)
    tables = {}
    for seed in seeds or (args.seed,):
        started = time.perf_counter()
        request = RunRequest(approach=approach, config=config, output_root=args.runs_dir, seed=seed,
                             folds=parse_fold_list(args.folds, args.fold),
                             tag=seed_run_tag(args.tag, seed) if seeds else args.tag, overwrite=args.overwrite,
                             wait=args.wait, jobs=args.jobs, cache_dir=args.cache_dir, save_models=args.save_models,
                             progress=progress_enabled())
        result = run_approach(dataset, request)
        if not is_main_process():
            continue  # the other torchrun ranks trained with rank 0, which writes and reports
        tables[seed] = result.scores
        track_approach_run(tracker, result, time.perf_counter() - started)
        print(markdown_table(result.scores))
        if result.uncertainty is not None:
            print(f"\nCV {result.uncertainty.describe()}")
        state = "complete" if result.complete else "partial (run the remaining folds to complete it)"
        print(f"\n{request.run_name}: {state}; outputs in {result.paths.root}")
    if seeds and tables and dataset.spec.metric in tables[seeds[0]].columns:
        spread = seed_spread(tables, dataset.spec.metric)
        print(f"\n{dataset.spec.metric} over seeds {','.join(map(str, seeds))}:\n{markdown_table(spread)}")


def approach_main(name: str, argv: list[str] | None = None) -> int:
    """Entry point of ``python approaches/<name>.py``: ``catalog-ml run <name>`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main

    return main(["run", name, *(sys.argv[1:] if argv is None else argv)])
