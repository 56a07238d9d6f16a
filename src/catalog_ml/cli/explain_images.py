"""Fit a ridge price head on a frozen image-embedding table (from catalog-ml embed) on the other folds, predict
one fold's rows with a photo, and draw Grad-CAM heatmaps of the backbone under that head for the best and worst
predicted products. Use the backbone and weights the table was made with."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from catalog_ml.cli.common import add_dataset_arguments, dataset_from_args
from catalog_ml.core.metrics import row_smape
from catalog_ml.core.task import RegressionTask, task_of
from catalog_ml.data.folds import load_folds
from catalog_ml.errors import CatalogError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--embeddings", type=Path, required=True, help="image table from catalog-ml embed")
    parser.add_argument("--backbone", default="tf_efficientnet_lite0", help="the backbone the table was made with")
    parser.add_argument("--weights", default="packaged", help="the weights the table was made with")
    parser.add_argument("--fold", type=int, default=0, help="fit on the other folds, draw this one (default: 0)")
    parser.add_argument("--rows", type=int, default=4, help="best and worst products to draw")
    parser.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/gradcam.png")


def handle(args: argparse.Namespace) -> int:
    from sklearn.linear_model import Ridge

    from catalog_ml.data.image_io import image_array, read_image
    from catalog_ml.data.images import image_paths
    from catalog_ml.features.embedding_table import read_embedding_table
    from catalog_ml.nn.image_embeddings import embedding_backbone
    from catalog_ml.nn.visual_explain import grad_cam, grad_cam_grid, overlay

    dataset = dataset_from_args(args)
    spec = dataset.spec
    if not isinstance(task_of(dataset), RegressionTask):
        raise CatalogError(f"explain-images explains price models (log1p contributions); {spec.name} is a "
                           f"{spec.task} dataset")
    table = read_embedding_table(args.embeddings)
    backbone = embedding_backbone(args.backbone, args.weights)
    if table.shape[1] != backbone.dim:
        raise CatalogError(f"{args.embeddings}: {table.shape[1]} values per row, but {args.backbone} gives "
                           f"{backbone.dim}: pass the backbone the table was made with")
    folds = load_folds(dataset)
    ids = dataset.train[spec.id_column].astype(str)
    has = ids.isin(table.index).to_numpy()
    train_rows, valid_rows = has & (folds.fold != args.fold), has & (folds.fold == args.fold)
    if train_rows.sum() < 10 or valid_rows.sum() < 2 * args.rows:
        raise CatalogError(f"too few rows with an embedding ({int(has.sum())}) to fit a price head and explain it")
    log_price = np.log1p(dataset.target.to_numpy(dtype=float))
    head = Ridge(alpha=10.0).fit(table.loc[ids[train_rows]].to_numpy(), log_price[train_rows])
    valid_index = np.flatnonzero(valid_rows)
    predicted = np.expm1(head.predict(table.loc[ids[valid_rows]].to_numpy()))
    truth = np.expm1(log_price[valid_rows])
    errors = row_smape(truth, predicted)
    order = np.argsort(errors)
    paths = image_paths(dataset.train, spec)
    items = []
    for which, positions in (("best", order[:args.rows]), ("worst", order[::-1][:args.rows])):
        for position in positions:
            row = valid_index[position]
            photo = read_image(paths[row], backbone.preprocessing.size)
            if photo is None:
                continue
            cam, _ = grad_cam(backbone, head.coef_, float(head.intercept_),
                              image_array(photo, backbone.preprocessing))
            items.append({"which": which, "photo": photo, "overlay": overlay(photo, cam),
                          "price": truth[position], "predicted": predicted[position]})
    out = args.out or Path("runs") / spec.name / "_explain" / "gradcam.png"
    grad_cam_grid(items, out, f"Grad-CAM of {args.backbone} under a ridge price head ({spec.name}, fold {args.fold})")
    print(f"price head on {int(train_rows.sum())} rows: fold {args.fold} SMAPE {errors.mean():.2f} over "
          f"{len(errors)} rows with a photo\nheatmaps of {len(items)} products: {out}")
    return 0
