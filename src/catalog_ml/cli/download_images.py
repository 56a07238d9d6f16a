"""Download every image a dataset links to, into the spec's image folder, named by the spec's rule: concurrent,
retried, validated and written atomically. Resumable: valid files on disk are kept; run it again after an
interruption. ``python data_cleaning/download_images.py ARGS`` is the same as ``catalog-ml download-images ARGS``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from catalog_ml.cli.common import add_dataset_arguments, progress_enabled, spec_from_args
from catalog_ml.data.download import DownloadSettings, download_images
from catalog_ml.data.images import image_file_names
from catalog_ml.data.loading import read_table
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DownloadSettings()
    add_dataset_arguments(parser)
    parser.add_argument("--splits", default="train,test", help="which tables to read links from")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="concurrent downloads")
    parser.add_argument("--timeout", type=float, default=defaults.timeout, help="seconds per request")
    parser.add_argument("--max-attempts", type=int, default=defaults.max_attempts, help="tries per file")
    parser.add_argument("--max-mb", type=float, default=defaults.max_bytes / 2**20, help="size cap per file")
    parser.add_argument("--max-pixels", type=int, default=defaults.max_pixels, help="pixel cap per image")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="also download from hosts on loopback, private or link-local addresses (a local mirror); "
                             "refused by default")
    parser.add_argument("--manifest", type=Path, default=None, help="default: IMAGE_DIR/../image_manifest.csv")
    parser.add_argument("-v", "--verbose", action="store_true")


def handle(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if not spec.image_column or spec.image_path is None:
        raise CatalogError(f"spec '{spec.name}' names no image_column and image_dir")
    frames = []
    for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
        path = {"train": spec.train_path, "test": spec.test_path}.get(split)
        if split not in ("train", "test"):
            raise CatalogError(f"--splits: unknown split '{split}' (use train and/or test)")
        if path is None or not path.exists():
            log.warning("%s table not found (%s): skipped", split, path)
            continue
        table = read_table(path, spec)
        missing = [c for c in (spec.id_column, spec.image_column) if c not in table.columns]
        if missing:
            raise CatalogError(f"{path}: missing column(s) {', '.join(missing)}")
        frames.append(pd.DataFrame({"id": table[spec.id_column], "url": table[spec.image_column],
                                    "file": image_file_names(table, spec)}))
    if not frames:
        raise CatalogError("no table to read image links from")
    rows = pd.concat(frames, ignore_index=True)
    settings = DownloadSettings(workers=args.workers, timeout=args.timeout, max_attempts=args.max_attempts,
                                max_bytes=int(args.max_mb * 2**20), max_pixels=args.max_pixels,
                                allow_private_addresses=args.allow_private_addresses)
    manifest = args.manifest or spec.image_path.parent / "image_manifest.csv"
    report = download_images(rows, spec.image_path, manifest, settings, progress=progress_enabled())
    print(report.summary())
    failed = report.manifest[report.manifest["status"].isin(["failed", "invalid_url"])]
    if len(failed):
        reasons = failed["error"].str.split("(").str[0].str.strip().value_counts().head(8)
        print("failures by reason:\n" + "\n".join(f"  {count:6d}  {reason}" for reason, count in reasons.items()))
    print(f"manifest: {manifest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the script: ``catalog-ml download-images`` with the script's arguments."""
    import sys

    from catalog_ml.cli.main import main as catalog_ml

    return catalog_ml(["download-images", *(sys.argv[1:] if argv is None else argv)])
