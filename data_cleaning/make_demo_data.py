"""Write the generated demo catalogue (competition format, with images). See ``--help``."""

import sys

from catalog_ml.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["demo-data", *sys.argv[1:]]))
