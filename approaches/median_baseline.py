"""Median baseline: predicts the training median price for every row (classification: the training class
frequencies). The floor every approach must beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import register_approach


@dataclass(frozen=True)
class MedianConfig:
    """The median baseline has no settings."""


@register_approach
class MedianBaseline(Approach):
    """Constant prediction: the median of the training target (close to SMAPE-optimal for a constant); for
    classification, the class frequencies of the training rows (the prior)."""

    name = "median_baseline"
    Config = MedianConfig
    tasks = ("regression", "classification")

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        if self.is_classification:
            counts = np.bincount(self.target_codes(train), minlength=len(self.classes))
            self.prior_ = counts / counts.sum()
        else:
            self.median_ = float(np.median(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.is_classification:
            return np.tile(self.prior_, (len(frame), 1))
        return np.full(len(frame), self.median_)


if __name__ == "__main__":
    raise SystemExit(approach_main("median_baseline"))
