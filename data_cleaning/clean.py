"""Clean training rows (duplicates, same-image price conflicts, outliers) into a new dataset. See --help."""

from catalog_ml.cli.clean import main

if __name__ == "__main__":
    raise SystemExit(main())
