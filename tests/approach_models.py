"""One approach's model built outside the runner, for tests that call ``fit``/``predict`` directly."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from catalog_ml.core.approach import Approach, FitContext
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import get_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import DatasetSpec, load_spec


def new_model(name: str, spec: DatasetSpec, cache_dir: Path, overrides: list[str] | None = None,
              seed: int = 0) -> Approach:
    """An unfitted model of approach ``name`` with its defaults changed by ``overrides`` (fold 0)."""
    approach = get_approach(name)
    return approach(build_config(approach.Config, overrides=overrides or []),
                    FitContext(spec, seed, 0, cache_dir, logging.getLogger("test")))


def demo_with_price_stating_ratings(demo_template: Path) -> tuple[DatasetSpec, pd.DataFrame]:
    """The demo's training rows plus a short text column that states each price ('370 customer reviews' = price x
    37), and the demo spec with that column among its text columns (last)."""
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    spec = replace(dataset.spec, text_columns=(*dataset.spec.text_columns, "Ratings"))
    ratings = [f"{round(price * 37):,} customer reviews" for price in dataset.train[spec.target]]
    return spec, dataset.train.assign(Ratings=ratings)
