"""LightGBM on fused features: sparse word TF-IDF, native categorical attributes, numeric attributes, parsed
quantities, numbers of short text columns and (when a table is given) image embeddings, on log1p price
(classification: multiclass)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach, Explanation
from catalog_ml.core.registry import register_approach
from catalog_ml.core.resources import available_threads
from catalog_ml.features.cached_tfidf import fitted_tfidf
from catalog_ml.features.cross_fitted_text import CrossFittedRidge, CrossFittedText
from catalog_ml.features.embedding_table import embeddings_for, read_embedding_table
from catalog_ml.features.fitted_cache import FittedCache
from catalog_ml.features.sparse_text import SparseTextSettings
from catalog_ml.features.text import TextNumbers, joined_text, numeric_attribute_matrix, quantity_features


@dataclass(frozen=True)
class LgbmFusionConfig:
    objective: Literal["huber", "l1"] = field(default="huber", metadata={
        "help": "loss on log1p price (huber or l1); classification always uses multiclass "
                "log-loss"})
    huber_alpha: float = field(default=0.5, metadata={"help": "huber transition point (log units)"})
    learning_rate: float = field(default=0.1, metadata={"help": "boosting learning rate"})
    num_leaves: int = field(default=127, metadata={
        "help": "leaves per tree"})
    max_depth: int = field(default=16, metadata={
        "help": "tree depth limit (-1: none, only num_leaves bounds a tree); 16 scored level or better and fitted "
                "faster than none on five real tables, and its SHAP contributions add up (docs/benchmarks.md)"})
    min_child_samples: int = field(default=10, metadata={"help": "minimum rows per leaf"})
    feature_fraction: float = field(default=0.3, metadata={"help": "share of features per tree"})
    tfidf_max_bin: int = field(default=15, metadata={
        "help": "histogram bins of each TF-IDF column (the other columns keep 255): fewer bins "
                "make each boosting round on the sparse columns cheaper"})
    max_rounds: int = field(default=3000, metadata={"help": "boosting rounds at most"})
    early_stopping_rounds: int = field(default=100, metadata={"help": "patience on the inner early-stopping split"})
    early_stopping_share: float = field(default=0.1, metadata={
        "help": "share of the training rows held out for early stopping (never the scored fold)"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    tfidf_min_df: int = field(default=3, metadata={"help": "ignore n-grams in fewer rows than this"})
    tfidf_max_features: int = field(default=0, metadata={
        "help": "TF-IDF vocabulary cap; 0 = 2,000 when text_ridge is used (the Ridge column "
                "reads every n-gram), else 20,000"})
    max_text_chars: int = field(default=2000, metadata={"help": "TF-IDF reads only the first N characters"})
    image_embeddings: str = field(default="", metadata={
        "help": "parquet table of id + embedding columns (from the embedding extractor); empty = none"})
    text_ridge: bool = field(default=True, metadata={
        "help": "regression: add a Ridge prediction on word + character TF-IDF as a feature, "
                "cross-fitted over inner group folds so a training row never sees its own price through it; its "
                "values are cached per fold under the cache folder"})
    text_ridge_alpha: float = field(default=1.5, metadata={"help": "L2 strength of that Ridge"})
    text_ridge_folds: int = field(default=4, metadata={"help": "inner folds that cross-fit that Ridge"})
    text_network: bool = field(default=False, metadata={
        "help": "regression: also add a sparse-input network's prediction (sparse_mlp's model, "
                "on word TF-IDF) as a feature, cross-fitted over the same inner folds (each fold fits "
                "text_ridge_folds + 1 networks, 2-3x the time)"})
    text_network_models: int = field(default=1, metadata={"help": "networks (seeds) averaged in that column"})


@register_approach
class LgbmFusion(Approach):
    """Sparse TF-IDF + native categoricals + numeric attributes + quantities (+ image embeddings) -> LightGBM."""

    name = "lgbm_fusion"
    Config = LgbmFusionConfig
    tasks = ("regression", "classification")

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        self.stacked_ = self._stacked_text_models()
        cap = c.tfidf_max_features or (2_000 if "text_ridge" in self.stacked_ else 20_000)
        self.tfidf_, train_text = fitted_tfidf(
            lambda: TfidfVectorizer(ngram_range=(1, c.word_ngram_max), min_df=c.tfidf_min_df, max_features=cap,
                                    sublinear_tf=True, dtype=np.float32),
            joined_text(train, self.spec, c.max_text_chars),
            FittedCache(self.context.cache_dir, "lgbm_fusion_tfidf", source_files=[__file__]))
        self.text_numbers_ = TextNumbers.fit(train, self.spec)
        self.categories_ = {column: pd.Index(train[column].dropna().astype(str).unique())
                            for column in self.spec.categorical_columns}
        self.embeddings_ = (read_embedding_table(c.image_embeddings, train[self.spec.id_column])
                            if c.image_embeddings else None)
        log_price = None if self.is_classification else np.log1p(self.target(train))
        stacked_train = [model.fit_transform(train, log_price) for model in self.stacked_.values()]
        features = self._features(train, stacked_train, train_text)
        stop = self.early_stopping_mask(len(train), c.early_stopping_share)
        categorical = list(range(len(self.spec.categorical_columns)))
        params = {"objective": c.objective, "learning_rate": c.learning_rate, "num_leaves": c.num_leaves,
                  "max_depth": c.max_depth, "min_child_samples": c.min_child_samples,
                  "feature_fraction": c.feature_fraction, "seed": self.context.seed, "deterministic": True,
                  "force_col_wise": True, "num_threads": available_threads(), "verbosity": -1}
        if self.is_classification:
            self.present_, target = self.local_class_codes(train)
            params.update(objective="multiclass", num_class=len(self.present_))
        else:
            target = np.log1p(self.target(train))
            if c.objective == "huber":
                params["alpha"] = c.huber_alpha
        text_columns = len(self.tfidf_.vocabulary_)
        params["max_bin_by_feature"] = [255] * (features.shape[1] - text_columns) + [c.tfidf_max_bin] * text_columns
        fit_set = lgb.Dataset(features[~stop], target[~stop], categorical_feature=categorical, free_raw_data=False)
        stop_set = lgb.Dataset(features[stop], target[stop], reference=fit_set, categorical_feature=categorical)
        self.booster_ = lgb.train(params, fit_set, num_boost_round=c.max_rounds, valid_sets=[stop_set],
                                  callbacks=[lgb.early_stopping(c.early_stopping_rounds, verbose=False)])
        self.context.logger.debug("lgbm_fusion: %d rounds", self.booster_.best_iteration)

    def _stacked_text_models(self) -> dict[str, CrossFittedText]:
        """The cross-fitted text columns the settings ask for, by feature name (none for classification)."""
        c = self.config
        if self.is_classification:
            return {}
        models: dict[str, CrossFittedText] = {}
        if c.text_ridge:
            models["text_ridge"] = CrossFittedRidge(self.spec, c.text_ridge_alpha, c.text_ridge_folds,
                                                    cache=FittedCache(self.context.cache_dir, "cross_fitted_ridge"))
        if c.text_network:
            from catalog_ml.nn.sparse_network import SparseNetworkRegressor, SparseNetworkSettings

            # the shorter training measured for this column: it fits text_ridge_folds + 1 networks a fold
            settings = SparseNetworkSettings(epochs=3, first_epoch_steps=128)
            seeds = [self.context.seed + i for i in range(c.text_network_models)]
            models["text_network"] = CrossFittedText(
                self.spec, SparseNetworkRegressor(settings, seeds),
                {"sparse_network": asdict(settings), "seeds": seeds}, c.text_ridge_folds,
                SparseTextSettings(char_max_features=0), FittedCache(self.context.cache_dir, "cross_fitted_network"))
        return models

    def prepare_to_save(self) -> None:
        for model in self.stacked_.values():
            model.fit_full_model()

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        output = self.booster_.predict(self._features(frame), num_iteration=self.booster_.best_iteration)
        if self.is_classification:
            return self.full_proba(output.reshape(len(frame), -1), self.present_)
        return self.prices_from_log1p(output)

    def explain(self, frame: pd.DataFrame) -> Explanation | None:
        """Gain importance and LightGBM's own SHAP contributions (``pred_contrib``); regression only."""
        if self.is_classification:
            return None
        iteration = self.booster_.best_iteration
        contributions = self.booster_.predict(self._features(frame), num_iteration=iteration, pred_contrib=True)
        gain = self.booster_.feature_importance("gain", iteration=iteration)
        return Explanation(self._feature_names(frame), np.asarray(gain, dtype=float), contributions)

    def _feature_names(self, frame: pd.DataFrame) -> list[str]:
        head = frame.head(1)
        names = list(self.spec.categorical_columns)
        names += list(numeric_attribute_matrix(head, self.spec).columns)
        names += [f"quantity:{c}" for c in quantity_features(head, self.spec).columns]
        names += list(self.text_numbers_.raw(head).columns)
        names += list(self.stacked_)
        if self.embeddings_ is not None:
            names += [f"image:{c}" for c in self.embeddings_.columns]
        return names + [f"tfidf:{term}" for term in self.tfidf_.get_feature_names_out()]

    def _features(self, frame: pd.DataFrame, stacked: list[np.ndarray] | None = None,
                  text: sp.csr_matrix | None = None) -> sp.csr_matrix:
        """The booster's matrix; ``stacked`` holds the training rows' cross-fitted text columns and ``text`` their
        TF-IDF rows (other rows: both computed)."""
        codes = [self.categories_[column].get_indexer(frame[column].astype(str)).astype(np.float32)
                 for column in self.spec.categorical_columns]
        codes = [np.where(code < 0, np.nan, code) for code in codes]  # unseen or missing category
        blocks = [np.column_stack(codes)] if codes else []
        blocks.append(numeric_attribute_matrix(frame, self.spec).to_numpy(dtype=np.float32))
        blocks.append(quantity_features(frame, self.spec).to_numpy(dtype=np.float32))
        blocks.append(self.text_numbers_.raw(frame).to_numpy(dtype=np.float32))
        if stacked is None:
            stacked = [model.transform(frame) for model in self.stacked_.values()]
        blocks += [column.astype(np.float32)[:, None] for column in stacked]
        if self.embeddings_ is not None:
            blocks.append(np.nan_to_num(embeddings_for(frame[self.spec.id_column], self.embeddings_), nan=0.0))
        dense = np.hstack([b for b in blocks if b.shape[1]]) if any(b.shape[1] for b in blocks) else None
        if text is None:
            text = self.tfidf_.transform(joined_text(frame, self.spec, self.config.max_text_chars))
        parts = [sp.csr_matrix(dense)] if dense is not None else []
        return sp.hstack([*parts, text], format="csr")


if __name__ == "__main__":
    raise SystemExit(approach_main("lgbm_fusion"))
