"""The Python API: fitted runs and blends applied to new tables, and ``Predictor`` (fit, predict, leaderboard,
save, load) over the same runner and blender as the command line."""

import catalog_ml.nn  # noqa: F401  (saved models may hold torch modules: their codec registers on import)
