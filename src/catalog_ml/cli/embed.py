"""Frozen image or text embeddings of every train and test row, written to OUT (id plus img_* or txt_*
columns) and OUT.json (backbone, counts of missing and unreadable images, speed). Vectors are cached per image or
text by content hash, so a second run is fast. Use the table with --set image_embeddings=OUT in lgbm_fusion or
mlp_fusion."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.atomic import write_frame_atomic, write_json_atomic
from catalog_ml.cli.common import (
    add_dataset_arguments,
    add_device_argument,
    dataset_from_args,
    progress_enabled,
    select_device,
)
from catalog_ml.data.images import image_paths
from catalog_ml.errors import CatalogError
from catalog_ml.features.text import joined_text

log = logging.getLogger(__name__)

DEFAULT_BACKBONES = {"image": ("tf_efficientnet_lite0", "packaged"), "text": ("minilm", "packaged")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    add_device_argument(parser)
    parser.add_argument("--what", choices=["image", "text"], default="image")
    parser.add_argument("--backbone", default=None,
                        help="image: a timm name (tf_efficientnet_lite0, tf_efficientnet_lite2 (packaged too), "
                             "efficientnet_b4...), mobilenet_v2, or "
                             "clip:MODEL (clip:ViT-L-14); text: minilm or clip:MODEL. Default: "
                             "tf_efficientnet_lite0 / minilm (both packaged, offline)")
    parser.add_argument("--weights", default=None,
                        help="packaged, hub, none (random), an open_clip tag, or a local checkpoint path "
                             "(default: packaged)")
    parser.add_argument("--out", type=Path, default=None, help="default: embeddings/DATASET/WHAT_BACKBONE.parquet")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows (a quick look)")


def handle(args: argparse.Namespace) -> int:
    select_device(args.device)
    dataset = dataset_from_args(args)
    spec = dataset.spec
    backbone_name, weights = DEFAULT_BACKBONES[args.what]
    backbone_name, weights = args.backbone or backbone_name, args.weights or weights
    frames = [dataset.train] + ([dataset.test] if dataset.test is not None else [])
    rows = pd.concat([f.drop(columns=[spec.target], errors="ignore") for f in frames], ignore_index=True)
    rows = rows.head(args.limit) if args.limit else rows
    out = args.out or Path("embeddings") / spec.name / f"{args.what}_{backbone_name.replace(':', '_')}.parquet"
    started = time.perf_counter()
    report: dict[str, object] = {"dataset": spec.name, "what": args.what, "backbone": backbone_name,
                                 "weights": weights, "rows": len(rows)}
    if args.what == "image":
        vectors, extra = _image_vectors(rows, spec, backbone_name, weights, args)
        report.update(extra)
    else:
        vectors = _text_vectors(joined_text(rows, spec, 512).tolist(), backbone_name, weights, args)
    seconds = time.perf_counter() - started
    from catalog_ml.nn.image_embeddings import embedding_frame

    table = embedding_frame(rows[spec.id_column], vectors, prefix="img" if args.what == "image" else "txt")
    write_frame_atomic(out, table)
    report.update(seconds=round(seconds, 1), rows_embedded=len(table), dim=int(vectors.shape[1]),
                  rows_per_second=round(len(rows) / max(seconds, 1e-9), 1))
    write_json_atomic(out.with_suffix(".json"), report)
    print(f"{out}: {len(table)} of {len(rows)} rows embedded ({vectors.shape[1]} values each) in {seconds:.1f}s")
    if args.what == "image":
        print(f"images: {report['images_read']} read, {report['images_missing']} missing, "
              f"{report['images_unreadable']} unreadable (details in {out.with_suffix('.json')})")
    return 0


def _image_vectors(rows: pd.DataFrame, spec, name: str, weights: str,  # noqa: ANN001
                   args: argparse.Namespace) -> tuple[np.ndarray, dict[str, object]]:
    from catalog_ml.nn.image_embeddings import embed_image_files, embedding_backbone

    if spec.image_path is None:
        raise CatalogError(f"{spec.name}: the spec has no image_dir, so there are no images to embed")
    if not spec.image_path.is_dir():
        raise CatalogError(f"{spec.image_path}: image folder does not exist (download images first: "
                           "catalog-ml download-images)")
    backbone = embedding_backbone(name, weights)
    vectors, tally = embed_image_files(image_paths(rows, spec), backbone, args.cache_dir, args.batch_size,
                                       progress=progress_enabled())
    summary = tally.summary()
    if summary["images_missing"] or summary["images_unreadable"]:
        log.warning("%d images missing and %d unreadable: those rows get no embedding (the approaches add a "
                    "'no image' flag)", summary["images_missing"], summary["images_unreadable"])
    return vectors, summary


def _text_vectors(texts: list[str], name: str, weights: str, args: argparse.Namespace) -> np.ndarray:
    if name == "minilm":
        from catalog_ml.nn.sentence_embeddings import sentence_embeddings

        return sentence_embeddings(texts, args.cache_dir, batch_size=args.batch_size, progress=progress_enabled())
    if not name.startswith("clip:"):
        raise CatalogError(f"text backbone '{name}': use minilm or clip:MODEL")
    from catalog_ml.nn.sentence_embeddings import clip_text_embeddings

    return clip_text_embeddings(texts, name.removeprefix("clip:"), weights, args.batch_size)
