"""A Ridge prediction on the sparse text matrix as one feature for a tree model, cross-fitted so that it stays honest.

Trees split sparse TF-IDF columns one n-gram at a time; a linear model reads all of them at once. Feeding the Ridge
prediction to the booster gives it that summary, but a Ridge fitted on a row predicts that row's own price too well.
So each training row's value comes from a Ridge fitted on the other inner folds, and the inner folds keep
near-duplicate groups (same normalised name or group column) together, as the outer folds do; rows to predict get the
Ridge fitted on all training rows.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

from catalog_ml.fitted_cache import FittedCache, array_digest, frame_digest
from catalog_ml.grouping import near_duplicate_groups
from catalog_ml.sparse_text import SparseTextFeatures, SparseTextSettings
from catalog_ml.spec import DatasetSpec

log = logging.getLogger(__name__)


class CrossFittedRidge:
    """Fit on training rows with ``fit_transform`` (out-of-inner-fold predictions), then ``transform`` other rows.

    With a ``cache``, both results are stored under keys that cover the settings, the training rows, their target
    and the rows transformed: a second run on the same fold reads them instead of refitting (the full Ridge is then
    fitted only when rows not seen before are transformed)."""

    def __init__(self, spec: DatasetSpec, alpha: float = 1.5, n_splits: int = 4,
                 settings: SparseTextSettings | None = None, cache: FittedCache | None = None) -> None:
        self.spec = spec
        self.alpha = alpha
        self.n_splits = n_splits
        self.settings = settings or SparseTextSettings()
        self.cache = cache or FittedCache(None, "cross_fitted_ridge")

    def fit_transform(self, frame: pd.DataFrame, target: np.ndarray) -> np.ndarray:
        """Each row's prediction from a Ridge that never saw the row or its near-duplicates; the full Ridge is kept."""
        self.train_, self.target_ = frame, np.asarray(target, dtype=np.float64)
        self.model_ = None
        self.fit_key_ = self.cache.key(self.spec.to_dict(), self.alpha, self.n_splits, asdict(self.settings),
                                       frame_digest(frame), array_digest(self.target_))
        return self.cache.array(self.fit_key_, len(frame), self._cross_fit)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The full Ridge's prediction for rows it was not fitted on."""
        key = self.cache.key(self.fit_key_, frame_digest(frame))
        return self.cache.array(key, len(frame), lambda: self._predict(frame))

    def _cross_fit(self) -> np.ndarray:
        frame, target = self.train_, self.target_
        matrix = self._fit_full()
        groups = near_duplicate_groups(frame, self.spec, use_images=False)
        n_splits = min(self.n_splits, len(np.unique(groups)))
        if n_splits < 2:  # one near-duplicate group: no Ridge exists that never saw a row's group
            log.warning("text Ridge: all %d training rows form one near-duplicate group: the column is the mean "
                        "target on them (no honest cross-fit possible)", len(frame))
            return np.full(len(frame), float(np.mean(target)))
        predictions = np.empty(len(frame), dtype=np.float64)
        for fit_rows, held_rows in GroupKFold(n_splits=n_splits).split(matrix, groups=groups):
            model = Ridge(alpha=self.alpha).fit(matrix[fit_rows], target[fit_rows])
            predictions[held_rows] = model.predict(matrix[held_rows])
        return predictions

    def _fit_full(self) -> sp.csr_matrix:
        """Fit the text features and the Ridge on every training row; return the training matrix."""
        self.features_ = SparseTextFeatures(self.spec, self.settings, self.cache.cache_dir)
        matrix = self.features_.fit_transform(self.train_)
        self.model_ = Ridge(alpha=self.alpha).fit(matrix, self.target_)
        return matrix

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.model_ is None:  # fit_transform came from the cache
            self._fit_full()
        return self.model_.predict(self.features_.transform(frame))
