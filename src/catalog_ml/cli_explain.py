"""``catalog-ml explain NAME``: refit a gradient-boosting approach on one fold's training rows and explain its
predictions on that fold's validation rows: gain importance, mean |SHAP contribution| per feature (the GBM's own
``pred_contrib``), and the strongest contributions behind the best and worst predicted products."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from catalog_ml.approach import FitContext
from catalog_ml.atomic import write_frame_atomic
from catalog_ml.cli_common import add_dataset_arguments, dataset_from_args
from catalog_ml.config import build_config
from catalog_ml.errors import CatalogError
from catalog_ml.folds import load_folds
from catalog_ml.metrics import row_smape
from catalog_ml.registry import get_approach
from catalog_ml.seeding import fold_seed, seed_everything


def add_explain_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="feature importance and SHAP contributions of a GBM approach",
                            description=__doc__)
    parser.add_argument("approach", help="lgbm_fusion or xgb_spacy (approaches with an explain view)")
    add_dataset_arguments(parser)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="approach settings")
    parser.add_argument("--fold", type=int, default=0, help="fit on the other folds, explain this one")
    parser.add_argument("--top", type=int, default=25, help="features in the chart and per explained row")
    parser.add_argument("--rows", type=int, default=5, help="best and worst predicted rows to explain")
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"))
    parser.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/APPROACH")
    parser.set_defaults(handler=explain_command)

    images = sub.add_parser(
        "explain-images", help="Grad-CAM heatmaps of a CNN backbone over the best and worst predicted photos",
        description="Fit a ridge price head on a frozen image-embedding table (from catalog-ml embed) on the other "
                    "folds, predict one fold's rows with a photo, and draw Grad-CAM heatmaps of the backbone under "
                    "that head for the best and worst predicted products. Use the backbone and weights the table "
                    "was made with.")
    add_dataset_arguments(images)
    images.add_argument("--embeddings", type=Path, required=True, help="image table from catalog-ml embed")
    images.add_argument("--backbone", default="tf_efficientnet_lite0")
    images.add_argument("--weights", default="packaged")
    images.add_argument("--fold", type=int, default=0)
    images.add_argument("--rows", type=int, default=4, help="best and worst products to draw")
    images.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/gradcam.png")
    images.set_defaults(handler=explain_images_command)

    maps = sub.add_parser("embedding-map", help="PCA and t-SNE maps of an embedding table, coloured",
                          description="2-D maps (PCA, t-SNE) of an image or text embedding table, coloured by "
                                      "price (log scale) or by a categorical column.")
    add_dataset_arguments(maps)
    maps.add_argument("--embeddings", type=Path, required=True, help="table from catalog-ml embed")
    maps.add_argument("--color", default=None, help="a column of the training table (default: the target)")
    maps.add_argument("--sample", type=int, default=3000, help="rows drawn (t-SNE is quadratic)")
    maps.add_argument("--out", type=Path, default=None, help="default: runs/DATASET/_explain/map_<table>/")
    maps.set_defaults(handler=embedding_map_command)


def explain_command(args: argparse.Namespace) -> int:
    approach_class = get_approach(args.approach)
    dataset = dataset_from_args(args)
    spec = dataset.spec
    folds = load_folds(dataset)
    if not 0 <= args.fold < folds.n_folds:
        raise CatalogError(f"--fold {args.fold}: the fold file has folds 0..{folds.n_folds - 1}")
    train = dataset.train.loc[folds.train_mask(args.fold)].reset_index(drop=True)
    valid = dataset.train.loc[folds.valid_mask(args.fold)].reset_index(drop=True)
    seed = fold_seed(42, args.fold)
    seed_everything(seed)
    model = approach_class(build_config(approach_class.Config, overrides=args.set),
                           FitContext(spec, seed, args.fold, args.cache_dir, logging.getLogger("catalog_ml.explain")))
    model.fit(train, valid)
    explanation = model.explain(valid)
    if explanation is None:
        raise CatalogError(f"approach '{args.approach}' has no explain view (lgbm_fusion and xgb_spacy have one)")
    contributions = explanation.contributions
    features = contributions[:, :-1]
    mean_abs = np.asarray(abs(features).mean(axis=0)).ravel() if sparse.issparse(features) else np.abs(
        features).mean(axis=0)
    table = pd.DataFrame({"feature": explanation.feature_names, "gain": explanation.gain,
                          "mean_abs_contribution": mean_abs}).sort_values("mean_abs_contribution",
                                                                          ascending=False)
    out = args.out or Path("runs") / spec.name / "_explain" / args.approach
    write_frame_atomic(out / "importance.csv", table)
    prices = model.predict(valid)
    truth = valid[spec.target].to_numpy(dtype=float)
    errors = row_smape(truth, prices)
    order = np.argsort(errors)
    picked = [("best", i) for i in order[:args.rows]] + [("worst", i) for i in order[::-1][:args.rows]]
    rows = []
    for label, i in picked:
        row = contributions[i].toarray().ravel() if sparse.issparse(contributions) else contributions[i]
        top = np.argsort(-np.abs(row[:-1]))[:args.top // 5 or 5]
        rows.append({"which": label, "id": valid[spec.id_column].iloc[i], "price": truth[i], "predicted": prices[i],
                     "row_smape": errors[i], "base_log_price": row[-1],
                     "top_contributions": "; ".join(f"{explanation.feature_names[j]} {row[j]:+.3f}" for j in top)})
    write_frame_atomic(out / "rows.csv", pd.DataFrame(rows))
    _importance_chart(table.head(args.top), out / "importance.png", f"{args.approach} on {spec.name}, fold "
                      f"{args.fold}: mean |SHAP contribution| (log1p price)")
    print(table.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nwritten: {out / 'importance.csv'}, {out / 'importance.png'}, {out / 'rows.csv'} "
          f"(best and worst {args.rows} rows with their strongest contributions)")
    return 0


def _importance_chart(table: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 0.3 * len(table) + 1.5))
    axis.barh(table["feature"].str.slice(0, 40)[::-1], table["mean_abs_contribution"][::-1])
    axis.set(title=title, xlabel="mean |contribution|")
    axis.title.set_fontsize(9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def explain_images_command(args: argparse.Namespace) -> int:
    from sklearn.linear_model import Ridge

    from catalog_ml.embedding_table import read_embedding_table
    from catalog_ml.image_embeddings import embedding_backbone
    from catalog_ml.image_io import image_array, read_image
    from catalog_ml.images import image_paths
    from catalog_ml.visual_explain import grad_cam, grad_cam_grid, overlay

    dataset = dataset_from_args(args)
    spec = dataset.spec
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


def embedding_map_command(args: argparse.Namespace) -> int:
    from catalog_ml.embedding_table import read_embedding_table
    from catalog_ml.visual_explain import embedding_maps

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
