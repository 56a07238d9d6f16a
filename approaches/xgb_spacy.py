"""XGBoost on log1p price with parsed quantities, spaCy brand features (in-fold target encoding, frequency),
target-encoded categorical attributes, a truncated-SVD view of word TF-IDF and PCA-reduced MiniLM sentence
embeddings (classification: multi:softprob, keys encoded with class shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach, Explanation
from catalog_ml.core.registry import register_approach
from catalog_ml.core.resources import available_threads, requested_device
from catalog_ml.data.grouping import item_names, near_duplicate_groups
from catalog_ml.data.loading import Dataset
from catalog_ml.features.brands import RARE, BrandExtractor, target_encode
from catalog_ml.features.fitted_cache import FittedCache, array_digest, frame_digest
from catalog_ml.features.text import TextNumbers, joined_text, numeric_attribute_matrix, quantity_features
from catalog_ml.nn.sentence_embeddings import DEFAULT_TEXT_CHARS, embed_dataset_texts, sentence_embeddings


@dataclass(frozen=True)
class XgbSpacyConfig:
    learning_rate: float = field(default=0.05, metadata={"help": "boosting learning rate"})
    max_depth: int = field(default=7, metadata={"help": "tree depth"})
    subsample: float = field(default=0.8, metadata={"help": "row share per tree"})
    colsample_bytree: float = field(default=0.6, metadata={"help": "feature share per tree"})
    max_bin: int = field(default=64, metadata={
        "help": "histogram bins per feature"})
    max_rounds: int = field(default=3000, metadata={"help": "boosting rounds at most"})
    early_stopping_rounds: int = field(default=100, metadata={"help": "patience on the inner early-stopping split"})
    early_stopping_share: float = field(default=0.1, metadata={
        "help": "share of the training rows held out for early stopping (never the scored fold)"})
    objective: str = field(default="reg:squarederror", metadata={
        "help": "XGBoost objective on log1p price"})
    brand_min_count: int = field(default=2, metadata={"help": "brands seen fewer times in training become rare"})
    encoding_smoothing: float = field(default=10.0, metadata={"help": "target-encoding smoothing (rows)"})
    svd_components: int = field(default=64, metadata={"help": "truncated-SVD size of the word TF-IDF (0 = none)"})
    tfidf_max_features: int = field(default=50_000, metadata={"help": "TF-IDF vocabulary cap"})
    max_text_chars: int = field(default=2000, metadata={"help": "TF-IDF reads only the first N characters"})
    sentence_components: int = field(default=32, metadata={
        "help": "PCA size of the MiniLM sentence embeddings (0 = no sentence embeddings)"})
    text_model: Literal["minilm", "mpnet"] = field(default="minilm", metadata={
        "help": "sentence encoder: minilm (packaged, 384-d) or mpnet (all-mpnet-base-v2, 768-d, about 4x slower; "
                "catalog-ml weights install mpnet first)"})
    sentence_text_chars: int = field(default=DEFAULT_TEXT_CHARS, metadata={
        "help": "characters of text embedded per row"})
    encoded_classes: int = field(default=20, metadata={
        "help": "classification: brands and categories are target-encoded with the shares of this many of the "
                "most frequent classes"})


FEATURE_SETTINGS = ("brand_min_count", "encoding_smoothing", "svd_components", "tfidf_max_features", "max_text_chars",
                    "sentence_components", "sentence_text_chars", "encoded_classes", "text_model")


@register_approach
class XgbSpacy(Approach):
    """Quantities + spaCy brands (target-encoded inside the fold) + categorical encodings + TF-IDF SVD + sentence
    embedding PCA -> XGBoost."""

    name = "xgb_spacy"
    Config = XgbSpacyConfig
    tasks = ("regression", "classification")
    unsaved_attributes = ("train_", "log_target_")  # once the transformers are fitted, predicting reads neither

    @classmethod
    def warm_cache(cls, config: XgbSpacyConfig, dataset: Dataset, cache_dir: Path | None) -> None:
        if config.sentence_components:
            embed_dataset_texts(dataset, config.sentence_text_chars, cache_dir, config.text_model)

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        if self.is_classification:
            self.present_, log_target = self.local_class_codes(train)  # class codes stand in for the target
        else:
            log_target = np.log1p(self.target(train))
        self.train_, self.log_target_, self.transformers_fitted_ = train, log_target, False
        self.cache_ = FittedCache(self.context.cache_dir, "xgb_spacy_features", source_files=[__file__])
        settings = {name: getattr(c, name) for name in FEATURE_SETTINGS}
        self.features_key_ = self.cache_.key(settings, self.spec.to_dict(), list(self.classes),
                                             self.context.seed, frame_digest(train), array_digest(log_target))
        features = self.cache_.array(self.features_key_, len(train), self._fit_transformers)
        stop = self.early_stopping_mask(len(train), c.early_stopping_share)
        shared = dict(n_estimators=c.max_rounds, learning_rate=c.learning_rate, max_depth=c.max_depth,
                      subsample=c.subsample, colsample_bytree=c.colsample_bytree, tree_method="hist",
                      max_bin=c.max_bin, n_jobs=available_threads(), random_state=self.context.seed,
                      early_stopping_rounds=c.early_stopping_rounds)
        if requested_device().startswith("cuda"):  # only when asked: the CPU build (xgboost-cpu) has no CUDA
            shared["device"] = "cuda"
        if self.is_classification:
            self.model_ = xgb.XGBClassifier(objective="multi:softprob", eval_metric="mlogloss", **shared)
        else:
            self.model_ = xgb.XGBRegressor(objective=c.objective, **shared)
        self.model_.fit(features[~stop], log_target[~stop], eval_set=[(features[stop], log_target[stop])],
                        verbose=False)

    def prepare_to_save(self) -> None:
        if not self.transformers_fitted_:  # the training matrix came from the cache
            self._fit_transformers()

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        features = self._frame_features(frame)
        if self.is_classification:
            return self.full_proba(self.model_.predict_proba(features), self.present_)
        return self.prices_from_log1p(self.model_.predict(features))

    def _encoded_targets(self, target: np.ndarray) -> dict[str, np.ndarray]:
        """What the keys are target-encoded with: log1p price, or (classification) the indicator of each of the
        ``encoded_classes`` most frequent classes."""
        if not self.is_classification:
            return {"target_encoding": target}
        frequent = np.argsort(-np.bincount(target), kind="stable")[:self.config.encoded_classes]
        return {f"share:{self.classes[self.present_[k]]}": (target == k).astype(float) for k in frequent}

    def explain(self, frame: pd.DataFrame) -> Explanation | None:
        """Gain importance and XGBoost's own SHAP contributions (``pred_contribs``); regression only."""
        if self.is_classification:
            return None
        booster = self.model_.get_booster()
        features = self._frame_features(frame)
        rounds = (0, self.model_.best_iteration + 1)
        contributions = booster.predict(xgb.DMatrix(features), pred_contribs=True, iteration_range=rounds)
        scores = booster.get_score(importance_type="total_gain")
        gain = np.array([scores.get(f"f{i}", 0.0) for i in range(features.shape[1])])
        return Explanation(self._feature_names(frame), gain, contributions)

    def _fit_transformers(self) -> np.ndarray:
        """Fit the brand vocabulary, encodings, TF-IDF SVD and sentence PCA on the training rows; return their
        booster matrix."""
        c, train = self.config, self.train_
        self.text_numbers_ = TextNumbers.fit(train, self.spec)
        self.brands_ = BrandExtractor(c.brand_min_count, self.context.cache_dir).fit(list(item_names(train, self.spec)))
        self.train_keys_ = {"brand": self.brands_.transform(list(item_names(train, self.spec)))}
        for column in self.spec.categorical_columns:
            self.train_keys_[column] = train[column].fillna("missing").astype(str).to_numpy()
        self.encoded_targets_ = self._encoded_targets(self.log_target_)
        self.train_groups_ = near_duplicate_groups(train, self.spec, use_images=False)
        self.tfidf_ = self.svd_ = None
        text_components = None
        if c.svd_components:
            self.tfidf_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=c.tfidf_max_features,
                                          sublinear_tf=True, dtype=np.float32)
            matrix = self.tfidf_.fit_transform(joined_text(train, self.spec, c.max_text_chars))
            components = min(c.svd_components, matrix.shape[1] - 1, len(train) - 1)
            self.svd_ = TruncatedSVD(components, random_state=self.context.seed).fit(matrix)
            matrix.sort_indices()  # as transform() leaves them: the same sums, so the same columns bit for bit
            text_components = self.svd_.transform(matrix)
        self.sentence_pca_ = None
        if c.sentence_components:
            embedded = self._sentence_vectors(train)
            components = min(c.sentence_components, embedded.shape[1], len(train) - 1)
            self.sentence_pca_ = PCA(components, random_state=self.context.seed).fit(embedded)
        self.transformers_fitted_ = True
        return self._features(train, training=True, text_components=text_components)

    def _frame_features(self, frame: pd.DataFrame) -> np.ndarray:
        """The booster's matrix for rows other than the training rows, from the fitted cache when computed before."""
        def compute() -> np.ndarray:
            if not self.transformers_fitted_:  # the training matrix came from the cache
                self._fit_transformers()
            return self._features(frame, training=False)

        return self.cache_.array(self.cache_.key(self.features_key_, frame_digest(frame)), len(frame), compute)

    def _feature_names(self, frame: pd.DataFrame) -> list[str]:
        if not self.transformers_fitted_:
            self._fit_transformers()
        head = frame.head(1)
        names = [f"quantity:{c}" for c in quantity_features(head, self.spec).columns]
        names += list(numeric_attribute_matrix(head, self.spec).columns)
        names += list(self.text_numbers_.raw(head).columns)
        for key in self.train_keys_:
            names += [f"{key}:{target}" for target in self.encoded_targets_]
            names += [f"{key}:log_frequency", f"{key}:rare"]
        if self.svd_ is not None:
            names += [f"tfidf_svd_{i}" for i in range(self.svd_.n_components)]
        if self.sentence_pca_ is not None:
            names += [f"sentence_pca_{i}" for i in range(self.sentence_pca_.n_components_)]
        return names

    def _features(self, frame: pd.DataFrame, training: bool, text_components: np.ndarray | None = None) -> np.ndarray:
        """The booster's matrix; ``text_components`` are the frame's TF-IDF SVD columns when already computed."""
        c = self.config
        keys = dict(self.train_keys_) if training else {"brand": self.brands_.transform(list(item_names(
            frame, self.spec)))} | {col: frame[col].fillna("missing").astype(str).to_numpy()
                                   for col in self.spec.categorical_columns}
        blocks = [quantity_features(frame, self.spec).to_numpy(dtype=float),
                  numeric_attribute_matrix(frame, self.spec).to_numpy(dtype=float),
                  self.text_numbers_.raw(frame).to_numpy(dtype=float)]
        for name, train_keys in self.train_keys_.items():
            encoded = [target_encode(train_keys, target, keys[name], c.encoding_smoothing, seed=self.context.seed,
                                     out_of_fold=training, groups=self.train_groups_)
                       for target in self.encoded_targets_.values()]
            frequency = pd.Series(keys[name]).map(pd.Series(train_keys).value_counts()).fillna(0).to_numpy()
            blocks.append(np.column_stack([*encoded, np.log1p(frequency), keys[name] == RARE]))
        if self.svd_ is not None and text_components is None:
            text_components = self.svd_.transform(self.tfidf_.transform(joined_text(frame, self.spec,
                                                                                    c.max_text_chars)))
        if text_components is not None:
            blocks.append(text_components)
        if self.sentence_pca_ is not None:
            blocks.append(self.sentence_pca_.transform(self._sentence_vectors(frame)))
        return np.hstack([b for b in blocks if b.shape[1]]).astype(np.float32)

    def _sentence_vectors(self, frame: pd.DataFrame) -> np.ndarray:
        texts = joined_text(frame, self.spec, self.config.sentence_text_chars).tolist()
        return sentence_embeddings(texts, self.context.cache_dir, model=self.config.text_model)


if __name__ == "__main__":
    raise SystemExit(approach_main("xgb_spacy"))
