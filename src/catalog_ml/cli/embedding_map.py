"""2-D maps (PCA, t-SNE) of an image or text embedding table (from catalog-ml embed), coloured by price (log
scale) or by a categorical column."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--embeddings", type=Path, required=True, help="table from catalog-ml embed")
    parser.add_argument("--color", default=None, help="a column of the training table (default: the target)")
    parser.add_argument("--sample", type=int, default=3000, help="rows drawn (t-SNE is quadratic)")
    parser.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/map_<table>/")


def handle(args: argparse.Namespace) -> int:
    from catalog_ml.features.embedding_table import read_embedding_table
    from catalog_ml.nn.visual_explain import embedding_maps

    dataset = dataset_from_args(args)
    spec = dataset.spec
    column = args.color or spec.target
    if column not in dataset.train.columns:
        raise CatalogError(f"--color {column}: no such column in {spec.train_path}")
    table = read_embedding_table(args.embeddings)
    frame = dataset.train.assign(_id=dataset.train[spec.id_column].astype(str))
    frame = frame[frame["_id"].isin(table.index)]
    if len(frame) < 10:
        raise CatalogError(f"{args.embeddings}: only {len(frame)} training rows have an embedding")
    frame = frame.sample(min(args.sample, len(frame)), random_state=0)
    out = args.out or Path("runs") / spec.name / "_explain" / f"map_{args.embeddings.stem}"
    written = embedding_maps(table.loc[frame["_id"]].to_numpy(), frame[column].rename(column), out,
                             f"{args.embeddings.stem} on {spec.name}, coloured by {column}")
    print("written: " + ", ".join(str(p) for p in written))
    return 0
