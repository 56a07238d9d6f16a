"""A Ridge prediction on the sparse text matrix as one feature for a tree model, cross-fitted so that it stays honest.

Trees split sparse TF-IDF columns one n-gram at a time; a linear model reads all of them at once. Feeding the Ridge
prediction to the booster gives it that summary, but a Ridge fitted on a row predicts that row's own price too well.
So each training row's value comes from a Ridge fitted on the other inner folds, and the inner folds keep
near-duplicate groups (same normalised name or group column) together, as the outer folds do; rows to predict get the
Ridge fitted on all training rows.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

from catalog_ml.grouping import near_duplicate_groups
from catalog_ml.sparse_text import SparseTextFeatures, SparseTextSettings
from catalog_ml.spec import DatasetSpec

log = logging.getLogger(__name__)


class CrossFittedRidge:
    """Fit on training rows with ``fit_transform`` (out-of-inner-fold predictions), then ``transform`` other rows."""

    def __init__(self, spec: DatasetSpec, alpha: float = 1.5, n_splits: int = 4,
                 settings: SparseTextSettings | None = None) -> None:
        self.spec = spec
        self.alpha = alpha
        self.n_splits = n_splits
        self.settings = settings or SparseTextSettings()

    def fit_transform(self, frame: pd.DataFrame, target: np.ndarray) -> np.ndarray:
        """Each row's prediction from a Ridge that never saw the row or its near-duplicates; the full Ridge is kept."""
        self.features_ = SparseTextFeatures(self.spec, self.settings)
        matrix = self.features_.fit_transform(frame)
        groups = near_duplicate_groups(frame, self.spec, use_images=False)
        n_splits = min(self.n_splits, len(np.unique(groups)))
        self.model_ = Ridge(alpha=self.alpha).fit(matrix, target)
        if n_splits < 2:  # one near-duplicate group: no Ridge exists that never saw a row's group
            log.warning("text Ridge: all %d training rows form one near-duplicate group: the column is the mean "
                        "target on them (no honest cross-fit possible)", len(frame))
            return np.full(len(frame), float(np.mean(target)))
        predictions = np.empty(len(frame), dtype=np.float64)
        for fit_rows, held_rows in GroupKFold(n_splits=n_splits).split(matrix, groups=groups):
            model = Ridge(alpha=self.alpha).fit(matrix[fit_rows], target[fit_rows])
            predictions[held_rows] = model.predict(matrix[held_rows])
        return predictions

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The full Ridge's prediction for rows it was not fitted on."""
        return self.model_.predict(self.features_.transform(frame))
