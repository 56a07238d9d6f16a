"""``python -m catalog_ml`` is ``catalog-ml``."""

from catalog_ml.cli.main import main

raise SystemExit(main())
