"""Data side: dataset specs, loading and validation, parsing and units, folds and grouping, cleaning, submissions,
demo data, image download and reading."""
