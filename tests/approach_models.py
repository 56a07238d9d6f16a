"""One approach's model built outside the runner, for tests that call ``fit``/``predict`` directly."""

from __future__ import annotations

import logging
from pathlib import Path

from catalog_ml.approach import Approach, FitContext
from catalog_ml.config import build_config
from catalog_ml.registry import get_approach
from catalog_ml.spec import DatasetSpec


def new_model(name: str, spec: DatasetSpec, cache_dir: Path, overrides: list[str] | None = None,
              seed: int = 0) -> Approach:
    """An unfitted model of approach ``name`` with its defaults changed by ``overrides`` (fold 0)."""
    approach = get_approach(name)
    return approach(build_config(approach.Config, overrides=overrides or []),
                    FitContext(spec, seed, 0, cache_dir, logging.getLogger("test")))
