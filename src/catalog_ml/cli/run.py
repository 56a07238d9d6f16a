"""Run one approach (or several: NAME,NAME,...) on the shared folds through the runner: out-of-fold and test
predictions, a per-fold score table and the effective config in RUNS_DIR/DATASET/RUN. Finished folds are kept: the
same command resumes. ``python approaches/NAME.py ARGS`` is the same as ``catalog-ml run NAME ARGS``.

Several approaches (and --seeds) in one call share --jobs: their folds run side by side, each job with threads /
jobs, with the same outputs as one run after another; --time-limit starts no fold that would end past it.

catalog-ml run NAME --help lists NAME's settings (change them with --set KEY=VALUE, or --set NAME.KEY=VALUE when
running several approaches)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from catalog_ml.api.fitting import run_row
from catalog_ml.cli.common import (
    add_dataset_arguments,
    add_job_arguments,
    add_resource_arguments,
    dataset_from_args,
    progress_enabled,
    spec_from_args,
    use_resources,
)
from catalog_ml.core.approach import Approach
from catalog_ml.core.config import build_config, describe_settings
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_files import markdown_table
from catalog_ml.core.run_request import RunRequest, RunResult, is_main_process
from catalog_ml.core.runner import run_approaches
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
    parser.add_argument("approach", nargs="?",
                        help="a registered approach (catalog-ml list), or several separated by commas")
    add_run_arguments(parser, dataset_required=False)


def handle(args: argparse.Namespace) -> int:
    if args.approach is None:
        from catalog_ml.core.registry import approach_names

        raise CatalogError(f"name an approach: catalog-ml run NAME (approaches: {', '.join(approach_names())})")
    if args.dataset is None:
        raise CatalogError("--dataset is required: a built-in spec name or a spec YAML file")
    names = [name.strip() for name in args.approach.split(",") if name.strip()]
    if len(set(names)) != len(names):
        raise CatalogError(f"{args.approach}: names an approach twice")
    return execute_run([get_approach(name) for name in names], args)


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
    add_resource_arguments(parser)
    add_job_arguments(parser)
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="start no fold job that would end past this many seconds (judged by the run's "
                             "finished folds); runs left partial are reported and resume on the next call")
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


def execute_run(approaches: list[type[Approach]], args: argparse.Namespace) -> int:
    """Run ``approaches`` with parsed arguments and print their per-fold tables."""
    if args.config is not None and len(approaches) > 1:
        raise CatalogError("--config holds one approach's settings; with several approaches use --set NAME.KEY=VALUE")
    configs = {a.name: build_config(a.Config, args.config, scoped_settings(args.set, a.name, approaches))
               for a in approaches}
    use_resources(args)
    seeds = parse_seed_list(args.seeds) if args.seeds else None
    tracker = tracker_from_args(args, spec_from_args(args).name)
    try:
        _run_all(approaches, configs, seeds, args, tracker)
    finally:
        tracker.close()
    return 0


def scoped_settings(items: list[str], name: str, approaches: list[type[Approach]]) -> list[str]:
    """The ``--set`` items for approach ``name``: ``NAME.KEY=VALUE`` for that approach, ``KEY=VALUE`` for all."""
    names = {a.name for a in approaches}
    chosen = []
    for item in items:
        key = item.split("=", 1)[0]
        scope, dot, rest = key.partition(".")
        if dot and scope in names:
            if scope == name:
                chosen.append(item[len(scope) + 1:])
        elif dot:
            raise CatalogError(f"--set {item}: '{scope}' is not one of the approaches run ({', '.join(sorted(names))})")
        else:
            chosen.append(item)
    return chosen


def _run_all(approaches: list[type[Approach]], configs: dict[str, object], seeds: tuple[int, ...] | None,
             args: argparse.Namespace, tracker: Tracker) -> None:
    dataset = dataset_from_args(args)
    requests = [RunRequest(approach=approach, config=configs[approach.name], output_root=args.runs_dir, seed=seed,
                           folds=parse_fold_list(args.folds, args.fold),
                           tag=seed_run_tag(args.tag, seed) if seeds else args.tag, overwrite=args.overwrite,
                           wait=args.wait, jobs=args.jobs, cache_dir=args.cache_dir, save_models=args.save_models,
                           progress=progress_enabled())
                for approach in approaches for seed in (seeds or (args.seed,))]
    started = time.perf_counter()
    results = run_approaches(dataset, requests, jobs=args.jobs, time_limit=args.time_limit, executor=args.executor,
                             ray_address=args.ray_address)
    if not is_main_process():
        return  # the other torchrun ranks trained with rank 0, which writes and reports
    seconds = time.perf_counter() - started
    for request, result in zip(requests, results, strict=True):
        track_approach_run(tracker, result, seconds if len(results) == 1 else _fold_seconds(result))
        print(f"\n## {request.run_name}\n\n{markdown_table(result.scores)}" if len(results) > 1
              else markdown_table(result.scores))
        if result.uncertainty is not None:
            print(f"\nCV {result.uncertainty.describe()}")
        state = "complete" if result.complete else "partial (run the remaining folds to complete it)"
        if result.not_run:
            state += f"; folds {list(result.not_run)} not started within --time-limit"
        print(f"\n{request.run_name}: {state}; outputs in {result.paths.root}")
    if seeds and dataset.spec.metric in results[0].scores.columns:
        for approach in approaches:
            tables = {r.seed: result.scores for r, result in zip(requests, results, strict=True)
                      if r.approach is approach}
            spread = seed_spread(tables, dataset.spec.metric)
            print(f"\n{approach.name}: {dataset.spec.metric} over seeds {','.join(map(str, seeds))}:\n"
                  f"{markdown_table(spread)}")
    if len(results) > 1:
        print(f"\n{len(results)} runs in {seconds:.1f}s with --jobs {args.jobs}")


def _fold_seconds(result: RunResult) -> float:
    """A run's own seconds among several in one call: its folds' fit and predict time."""
    row = run_row(result)
    return row["fit_seconds"] + row["predict_seconds"]


def approach_main(name: str, argv: list[str] | None = None) -> int:
    """Entry point of ``python approaches/<name>.py``: ``catalog-ml run <name>`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main

    return main(["run", name, *(sys.argv[1:] if argv is None else argv)])
