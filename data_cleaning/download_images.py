"""Download a dataset's images: concurrent, retried, validated, atomic, resumable. See --help."""

from catalog_ml.cli.download_images import main

if __name__ == "__main__":
    raise SystemExit(main())
