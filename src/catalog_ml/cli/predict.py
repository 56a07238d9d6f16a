"""Apply a fitted run or blend to a new table, without refitting anything.

  catalog-ml predict --run runs/DATASET/APPROACH NEW.csv        the mean of the run's saved fold models
  catalog-ml predict --blend runs/DATASET/_blend/auto NEW.csv   every member run, then the blend's weights

The table is read and checked like the training data (the spec's columns, unique and safe ids, numeric columns);
columns the models do not read are ignored and reported. The output holds the spec's id column and the target
column (for classification the label, then one ``proba:<class>`` column per class). Runs save their fold models by
default (``run --no-save-models`` does not; the deep approaches need ``run --save-models``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from catalog_ml.api.predicting import LoadedBlend, LoadedRun, prediction_table, read_new_table
from catalog_ml.atomic import write_frame_atomic
from catalog_ml.cli.common import add_resource_arguments, use_resources
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="a run folder (runs/DATASET/RUN)")
    source.add_argument("--blend", type=Path, help="a blend folder (runs/DATASET/_blend/METHOD)")
    parser.add_argument("table", type=Path, help="the table to predict (CSV/TSV, parquet or Excel, like the "
                                                 "training table)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output CSV or parquet (default: predictions/TABLE_RUN.csv)")
    parser.add_argument("--images", type=Path, default=None,
                        help="folder of the new rows' images (default: the folder the models were fitted with)")
    parser.add_argument("--full", action="store_true",
                        help="--run: use the model fitted on every training row (run --fold -1)")
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"),
                        help="where sentence embeddings are cached (default: cache)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="--blend: member runs predicting side by side in worker processes, each with threads / "
                             "jobs (default: 1)")
    add_resource_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def handle(args: argparse.Namespace) -> int:
    use_resources(args)
    if args.blend is not None and args.full:
        raise CatalogError("--full applies to --run (a blend uses the fold models its weights were fitted on)")
    if args.jobs < 1:
        raise CatalogError(f"--jobs {args.jobs}: expected at least 1 job")
    folder = args.run or args.blend
    out = args.out or Path("predictions") / f"{args.table.name.split('.')[0]}_{folder.name}.csv"
    if out.suffix not in (".csv", ".parquet"):
        raise CatalogError(f"--out {out}: use a .csv or .parquet file name")
    started = time.perf_counter()
    loaded = (LoadedRun(args.run, args.cache_dir, args.images, full=args.full) if args.run is not None
              else LoadedBlend(args.blend, args.cache_dir, args.images))
    loading = time.perf_counter() - started
    frame = read_new_table(args.table, loaded.spec)
    values = loaded.predict(frame) if args.run is not None else loaded.predict(frame, jobs=args.jobs)
    table = prediction_table(loaded.spec, loaded.task, frame[loaded.spec.id_column].to_numpy(), values)
    write_frame_atomic(out, table)
    seconds = time.perf_counter() - started
    print(f"{len(table)} rows predicted in {seconds:.1f}s (models loaded in {loading:.1f}s, "
          f"{len(table) / max(seconds - loading, 1e-9):,.0f} rows/s): {out}")
    return 0
