"""``Predictor``: the whole kit from a notebook, in the manner of AutoGluon's ``TabularPredictor``.

    predictor = Predictor(label="price", text=["catalog_content"], path="price_model")
    predictor.fit(train_df, presets="medium", time_limit=600)   # or approaches=["tfidf_ridge", ...]
    predictor.leaderboard()          # nested CV score ± standard error and seconds, per approach and the blend
    predictor.predict(new_df)        # prices (classification: labels; predict_proba: probabilities)
    Predictor.load("price_model")    # the folder is the saved predictor; save(path) copies it

A thin layer over the runner and the blender: the training frame is written into the predictor's folder with a
generated spec, the shared group-aware folds are made once, each approach is a run, and the honest blend is the
``auto`` blend of those runs. Everything ``catalog-ml`` writes is there too (runs, reports, saved fold models).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from catalog_ml.api.fitting import LEADERBOARD_COLUMNS, fit_approaches
from catalog_ml.api.predicting import LoadedBlend, read_new_table
from catalog_ml.atomic import write_frame_atomic, write_json_atomic
from catalog_ml.core.config import config_from_dict
from catalog_ml.core.presets import DEFAULT_PRESET, preset_approaches
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_files import read_json
from catalog_ml.core.run_request import RunRequest
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import ROW_NUMBER_ID, load_dataset
from catalog_ml.data.spec import DatasetSpec, spec_from_mapping
from catalog_ml.errors import CatalogError

MANIFEST = "predictor.json"
DATA_FOLDER, RUNS_FOLDER, CACHE_FOLDER = "data", "runs", "cache"
BLEND_METHOD = "auto"


class Predictor:
    """Fit approaches on a product table, blend them honestly, and predict new tables.

    ``label`` is the target column; ``text``, ``categorical`` and ``numeric`` name the input columns (as in a dataset
    spec); ``id_column`` the row ids (default: row numbers); ``image_column`` and ``image_dir`` the photos;
    ``task`` ``"regression"`` (price, SMAPE) or ``"classification"``; ``path`` the folder that holds everything.
    """

    def __init__(self, label: str, path: str | Path = "catalog_predictor", *, text: Sequence[str] = (),
                 categorical: Sequence[str] = (), numeric: Sequence[str] = (), id_column: str | None = None,
                 image_column: str | None = None, image_dir: str | Path | None = None, task: str = "regression",
                 metric: str | None = None, text_format: str = "plain", group_columns: Sequence[str] = (),
                 name: str = "table") -> None:
        self.path = Path(path)
        spec = {"name": name, "id_column": id_column or ROW_NUMBER_ID, "target": label, "task": task,
                "text_columns": list(text), "categorical_columns": list(categorical),
                "numeric_columns": list(numeric), "group_columns": list(group_columns), "text_format": text_format,
                "image_column": image_column, "image_dir": str(Path(image_dir).resolve()) if image_dir else None,
                "root": DATA_FOLDER, "train_file": "train.parquet", "test_file": None, "folds_file": "folds.csv"}
        if metric is not None:
            spec["metric"] = metric
        self._spec_values = {key: value for key, value in spec.items() if value is not None or key == "test_file"}
        self.spec = self._spec()
        self._fitted: dict[str, Any] = {}

    # -- fitting --------------------------------------------------------------------------------------------------
    def fit(self, train: pd.DataFrame, approaches: Sequence[str] | None = None, *, presets: str = DEFAULT_PRESET,
            time_limit: float | None = None, n_folds: int = 5, seed: int = 42,
            settings: dict[str, dict[str, Any]] | None = None, jobs: int = 1, executor: str = "local",
            ray_address: str | None = None, progress: bool = True) -> Predictor:
        """Write ``train`` into the predictor's folder, make the shared folds, run the approaches (``approaches``, or
        those of ``presets``: fast, medium, best; ``settings``: per approach, its settings by name; ``jobs`` fold
        jobs side by side, locally or on Ray with ``executor="ray"``) and blend the finished ones with the honest
        nested evaluation, within ``time_limit`` seconds when given."""
        if not isinstance(train, pd.DataFrame) or train.empty:
            raise CatalogError("fit: expected a non-empty pandas DataFrame of training rows")
        names = list(approaches) if approaches is not None else preset_approaches(presets, self.spec.task)[0]
        unknown = [name for name in (settings or {}) if name not in names]
        if unknown:
            raise CatalogError(f"fit: settings for approach(es) not being fitted: {', '.join(unknown)}")
        classes = [get_approach(name) for name in names]  # unknown names fail here, before any work
        if not classes:
            raise CatalogError("fit: name at least one approach")
        data = self.path / DATA_FOLDER
        data.mkdir(parents=True, exist_ok=True)
        write_frame_atomic(data / "train.parquet", train.reset_index(drop=True))
        dataset = load_dataset(self.spec)
        write_folds(make_folds(dataset, n_folds=n_folds, seed=seed), self.spec.folds_path, {"seed": seed})
        requests = [RunRequest(approach=a, config=config_from_dict(a.Config, (settings or {}).get(a.name, {})),
                               output_root=self.path / RUNS_FOLDER, seed=seed, cache_dir=self.path / CACHE_FOLDER,
                               overwrite=True, progress=progress, save_models=True) for a in classes]
        outcome = fit_approaches(dataset, load_folds(dataset), requests, self._blend_dir(), jobs=jobs,
                                 time_limit=time_limit, blend_options={"random_state": seed}, executor=executor,
                                 ray_address=ray_address)
        board = outcome.leaderboard("score")
        self._fitted = {"approaches": names, "leaderboard": board.to_dict("records"), "rows": len(dataset.train),
                        "classes": list(dataset.classes), "fit_seconds": outcome.seconds}
        self._loaded = None
        write_json_atomic(self.path / MANIFEST, {"spec": self._spec_values, **self._fitted})
        return self

    # -- using it -------------------------------------------------------------------------------------------------
    def predict(self, frame: pd.DataFrame, images: str | Path | None = None, jobs: int = 1) -> pd.Series:
        """The blend's predictions for ``frame`` (prices, or class labels), indexed like ``frame``; ``images``: the
        folder of its rows' photos (default: the one fitted with); ``jobs``: member runs side by side."""
        loaded = self._blend(images)
        values = self._blend_values(frame, loaded, jobs)
        return pd.Series(loaded.task.submission_values(values), index=frame.index, name=self.spec.target)

    def predict_proba(self, frame: pd.DataFrame, images: str | Path | None = None, jobs: int = 1) -> pd.DataFrame:
        """Class probabilities for ``frame`` (classification), one column per class, indexed like ``frame``."""
        if self.spec.task != "classification":
            raise CatalogError("predict_proba: this predictor was fitted for regression; use predict")
        values = self._blend_values(frame, self._blend(images), jobs)
        return pd.DataFrame(values, index=frame.index, columns=self._fitted["classes"])

    def leaderboard(self) -> pd.DataFrame:
        """Per approach and for the blend: the honest CV score (nested for the blend), its standard error over
        folds, and the seconds spent fitting and predicting the folds."""
        self._require_fit()
        table = pd.DataFrame(self._fitted["leaderboard"], columns=LEADERBOARD_COLUMNS)
        return table.rename(columns={"score": self.spec.metric})

    def save(self, path: str | Path) -> Predictor:
        """Copy the predictor's folder (runs, saved models, data, the fitted blend) to ``path``; returns the copy."""
        self._require_fit()
        target = Path(path)
        if target.exists():
            raise CatalogError(f"{target}: already exists; choose a new folder")
        shutil.copytree(self.path, target, ignore=shutil.ignore_patterns(CACHE_FOLDER, ".lock", ".lock.json"))
        return Predictor.load(target)

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """A fitted predictor from its folder."""
        manifest_path = Path(path) / MANIFEST
        if not manifest_path.is_file():
            raise CatalogError(f"{path}: not a fitted predictor folder (no {MANIFEST})")
        manifest = read_json(manifest_path)
        predictor = cls.__new__(cls)
        predictor.path = Path(path)
        predictor._spec_values = manifest["spec"]
        predictor.spec = predictor._spec()
        predictor._fitted = {key: value for key, value in manifest.items() if key != "spec"}
        return predictor

    # -- internals ------------------------------------------------------------------------------------------------
    def _spec(self) -> DatasetSpec:
        return spec_from_mapping(self._spec_values, source="Predictor", base_dir=self.path.resolve())

    def _run_dir(self, approach: str) -> Path:
        return self.path / RUNS_FOLDER / self.spec.name / approach

    def _blend_dir(self) -> Path:
        return self.path / RUNS_FOLDER / self.spec.name / "_blend" / BLEND_METHOD

    def _require_fit(self) -> None:
        if not self._fitted:
            raise CatalogError("this predictor is not fitted yet: call fit(train_df) first")

    def _blend(self, images: str | Path | None = None) -> LoadedBlend:
        self._require_fit()
        key = str(Path(images).resolve()) if images is not None else None
        if getattr(self, "_loaded", None) is None or self._loaded[0] != key:
            self._loaded = (key, LoadedBlend(self._blend_dir(), self.path / CACHE_FOLDER,
                                             Path(images) if images is not None else None))
        return self._loaded[1]

    @staticmethod
    def _blend_values(frame: pd.DataFrame, loaded: LoadedBlend, jobs: int) -> np.ndarray:
        if not isinstance(frame, pd.DataFrame):
            raise CatalogError("predict: expected a pandas DataFrame")
        return loaded.predict(read_new_table(frame, loaded.spec), jobs=jobs)
