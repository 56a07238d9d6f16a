"""Make a dataset's fold file once: group-aware, stratified on log-price bins, seeded. See ``--help``."""

import sys

from catalog_ml.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["folds", *sys.argv[1:]]))
