"""Write the generated demo catalogue: a deterministic synthetic table in the competition's format
(``sample_id, catalog_content, image_link, price``) with product images that carry signal, and its spec."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from catalog_ml.cli.common import progress_enabled

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder (default: data/demo)")
    parser.add_argument("--train-rows", type=int, default=3000, help="training rows (default: 3000)")
    parser.add_argument("--test-rows", type=int, default=1000, help="test rows (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    parser.add_argument("--no-images", action="store_true", help="skip image rendering (large scale tests)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the data even if it exists")


def handle(args: argparse.Namespace) -> int:
    print(f"demo dataset spec: {ensure_demo_data(args)}")
    return 0


def ensure_demo_data(args: argparse.Namespace) -> Path:
    """The demo spec's path, writing the demo data first unless it exists (or ``--regenerate``)."""
    from catalog_ml.data.demo_data import write_demo_dataset

    spec_path = Path(args.out) / "dataset.yaml"
    if spec_path.exists() and not args.regenerate:
        log.info("demo data exists in %s (use --regenerate to rewrite it)", args.out)
        return spec_path
    for name in ("folds.csv", "folds.json"):
        (Path(args.out) / name).unlink(missing_ok=True)
    return write_demo_dataset(args.out, args.train_rows, args.test_rows, seed=args.seed, images=not args.no_images,
                              progress=progress_enabled())
