"""Median baseline: predicts the training median price for every row. The floor every approach must beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from catalog_ml.approach import Approach
from catalog_ml.cli_run import approach_main
from catalog_ml.registry import register_approach


@dataclass(frozen=True)
class MedianConfig:
    """The median baseline has no settings."""


@register_approach
class MedianBaseline(Approach):
    """Constant prediction: the median of the training target (close to SMAPE-optimal for a constant)."""

    name = "median_baseline"
    Config = MedianConfig

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        self.median_ = float(np.median(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.full(len(frame), self.median_)


if __name__ == "__main__":
    raise SystemExit(approach_main("median_baseline"))
