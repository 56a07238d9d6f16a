"""Download a dataset's images: concurrent, retried, validated, atomic, resumable. See --help."""

from catalog_ml.cli_download import main

if __name__ == "__main__":
    raise SystemExit(main())
