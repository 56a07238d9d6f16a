"""The approach interface: fit on a training frame, predict a frame. The runner owns everything else."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from catalog_ml.data.classes import class_codes, spread_proba
from catalog_ml.data.loading import Dataset
from catalog_ml.data.spec import DatasetSpec


@dataclass(frozen=True)
class FitContext:
    """What an approach may know about the run: the dataset spec, its seed, its fold and a cache folder."""

    spec: DatasetSpec
    seed: int
    fold: int
    cache_dir: Path
    logger: logging.Logger
    work_dir: Path | None = None  # this fold's private folder inside the run (checkpoints), kept for resuming
    classes: tuple[str, ...] = ()  # classification: every class of the training table, in output column order


@dataclass(frozen=True)
class Explanation:
    """A fitted model's view of its features: ``gain`` per feature and ``contributions`` (rows x features, plus
    a last bias column) that add up to each row's log1p prediction."""

    feature_names: list[str]
    gain: np.ndarray
    contributions: Any  # dense ndarray or scipy sparse matrix


class Approach(ABC):
    """Base class of every approach.

    Subclasses set ``name`` (the registry key), ``Config`` (a frozen dataclass whose defaults are the realistic
    configuration; field ``metadata={"help": ...}`` documents each setting) and ``tasks``. They never choose folds,
    set global seeds or write files: the runner does.
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    tasks: ClassVar[tuple[str, ...]] = ("regression",)
    saves_models: ClassVar[bool] = True  # each fold's fitted model is saved unless the run says otherwise
    unsaved_attributes: ClassVar[tuple[str, ...]] = ()  # fitted attributes that predicting does not need

    def __init__(self, config: Any, context: FitContext) -> None:
        self.config = config
        self.context = context

    @property
    def spec(self) -> DatasetSpec:
        return self.context.spec

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The training target of ``frame`` as floats (regression) or strings (classification)."""
        column = frame[self.spec.target]
        return column.to_numpy(dtype=float) if self.spec.task == "regression" else column.astype(str).to_numpy()

    @property
    def is_classification(self) -> bool:
        return self.spec.task == "classification"

    @property
    def classes(self) -> tuple[str, ...]:
        return self.context.classes

    def target_codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Classification target of ``frame`` as integer codes into ``classes``."""
        return class_codes(frame[self.spec.target], self.classes)

    def local_class_codes(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(present, local)``: the codes of the classes present in ``frame`` and each row's index into
        ``present`` (contiguous labels for a model; ``self.full_proba`` maps its columns back)."""
        present, local = np.unique(self.target_codes(frame), return_inverse=True)
        return present, local

    def full_proba(self, proba: np.ndarray, present: np.ndarray) -> np.ndarray:
        """A model's probabilities over ``present`` classes as columns of every class (0 for the others)."""
        return spread_proba(np.asarray(proba, dtype=float), present, len(self.classes))

    def early_stopping_mask(self, n_rows: int, share: float) -> np.ndarray:
        """A seeded random ``share`` of the training rows to early-stop on (never the scored fold)."""
        return np.random.default_rng(self.context.seed).random(n_rows) < share

    @staticmethod
    def prices_from_log1p(log_price: np.ndarray) -> np.ndarray:
        """Predicted log1p prices back to positive prices (clipped to 0.01 .. e^20)."""
        return np.expm1(np.clip(log_price, np.log1p(0.01), 20.0))

    @abstractmethod
    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        """Fit on ``train``; ``valid`` (the fold's held-out rows, with target) may be used for early stopping."""

    @abstractmethod
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predictions for ``frame``: positive prices of shape (n,) for regression; for classification, class
        probabilities of shape (n, len(classes)) in ``classes`` order (``classes.spread_proba`` fills the columns
        of classes a fold's model never saw)."""

    @classmethod
    def warm_cache(cls, config: Any, dataset: Dataset, cache_dir: Path | None) -> None:
        """Fill, once and before any fold, the cache entries that every fold reads (sentence vectors of every row):
        vectors computed in one pass do not depend on which folds ran first or side by side (a batch's make-up and
        the threads change their last digits), so parallel fold jobs equal a sequential run. Default: nothing."""
        return None

    def explain(self, frame: pd.DataFrame) -> Explanation | None:
        """Feature names, gain importance and per-row contributions (log1p scale) for ``frame``; None when the
        approach has no such view."""
        return None

    def prepare_to_save(self) -> None:
        """Fit what fitting left for later (parts a cache spared): a loaded model must predict without fitting."""
        return None

    def fitted_state(self) -> dict[str, Any]:
        """What predicting needs, saved by ``core.saved_models``: by default every attribute but the config, the
        context and ``unsaved_attributes``."""
        return {name: value for name, value in vars(self).items()
                if name not in ("config", "context", *self.unsaved_attributes)}

    def restore_fitted(self, state: dict[str, Any]) -> None:
        """Take back what ``fitted_state`` returned (the config and context are already set)."""
        vars(self).update(state)

    def report(self) -> dict[str, Any]:
        """Extra per-fold figures for the score table (e.g. missing images), read after predicting."""
        return {}
