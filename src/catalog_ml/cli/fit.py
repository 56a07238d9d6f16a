"""Fit a preset's approaches on the shared folds and blend them honestly, within an optional time limit: the one
command from a validated table to a submission. The fold file is made first when it does not exist.

  catalog-ml fit --dataset SPEC --preset fast --time-limit 300 --jobs 2

With --time-limit, no fold job starts that its run's finished folds say would end past nine tenths of the limit
(the last tenth is the blend's); unfinished runs are named, left out of the blend, and resume on the next call."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_ml.api.fitting import fit_approaches
from catalog_ml.cli.common import (
    add_dataset_arguments,
    add_job_arguments,
    add_resource_arguments,
    dataset_from_args,
    progress_enabled,
    use_resources,
)
from catalog_ml.core.config import build_config
from catalog_ml.core.presets import DEFAULT_PRESET, PRESETS, describe_presets, preset_approaches
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_files import markdown_table
from catalog_ml.core.run_request import RunRequest
from catalog_ml.data.folds import load_folds, make_folds, write_folds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "presets:\n" + describe_presets()
    add_dataset_arguments(parser)
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                        help=f"which approaches run (default: {DEFAULT_PRESET}; listed below)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="wall-time budget for the runs and the blend (default: none)")
    add_job_arguments(parser)
    parser.add_argument("--seed", type=int, default=42, help="run seed (each fold derives its own)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="output root: RUNS_DIR/DATASET/RUN")
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"), help="feature cache folder")
    parser.add_argument("--submission", type=Path, default=None,
                        help="default: submissions/DATASET_fit_PRESET.csv (when the spec names a test file)")
    add_resource_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def handle(args: argparse.Namespace) -> int:
    use_resources(args)
    dataset = dataset_from_args(args)
    names, left_out = preset_approaches(args.preset, dataset.spec.task)
    if left_out:
        print(f"preset {args.preset}: left out {'; '.join(left_out)}")
    if not dataset.spec.folds_path.exists():
        write_folds(make_folds(dataset, seed=args.seed), dataset.spec.folds_path, {"seed": args.seed})
        print(f"fold file made: {dataset.spec.folds_path}")
    folds = load_folds(dataset)
    requests = [RunRequest(approach=get_approach(name), config=build_config(get_approach(name).Config),
                           output_root=args.runs_dir, seed=args.seed, cache_dir=args.cache_dir, jobs=args.jobs,
                           progress=progress_enabled()) for name in names]
    blend_dir = args.runs_dir / dataset.spec.name / "_blend" / f"fit_{args.preset}"
    submission = args.submission or Path("submissions") / f"{dataset.spec.name}_fit_{args.preset}.csv"
    outcome = fit_approaches(dataset, folds, requests, blend_dir, jobs=args.jobs, time_limit=args.time_limit,
                             blend_options={"random_state": args.seed}, submission=submission,
                             executor=args.executor, ray_address=args.ray_address)
    print(f"\n## leaderboard ({args.preset}, {outcome.seconds:.0f} s"
          f"{f' of {args.time_limit:g} s' if args.time_limit else ''})\n")
    print(markdown_table(outcome.leaderboard(dataset.spec.metric)))
    print(f"\nblend: {blend_dir}")
    return 0
