"""Check any submission file against a test file: header, every test id once, positive finite prices."""

import sys

from catalog_ml.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["validate-submission", *sys.argv[1:]]))
