"""Blend the approaches' OOF and test predictions into a submission, with an honest nested score. See --help."""

from catalog_ml.cli.blend import main

if __name__ == "__main__":
    raise SystemExit(main())
