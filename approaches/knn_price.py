"""Nearest-neighbour prices: neighbours in character TF-IDF space and in MiniLM sentence-embedding space among the
training rows, their prices, similarities and price-per-unit, turned into a price by a small gradient-boosting
model that also reads the row's own quantities, numeric attributes and text numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import register_approach
from catalog_ml.data.grouping import item_names, normalise_name
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError
from catalog_ml.features.fitted_cache import FittedCache, frame_digest
from catalog_ml.features.text import TextNumbers, joined_text, numeric_attribute_matrix, quantity_features
from catalog_ml.nn.neighbours import CosineNeighbours
from catalog_ml.nn.sentence_embeddings import (
    DEFAULT_TEXT_CHARS,
    embed_dataset_texts,
    sentence_embeddings,
    text_model_tag,
)

SPACES = ("tfidf", "embedding")
MIN_PRUNE_ROWS = 50  # on small tables a share would prune n-grams that are merely common, not ubiquitous


@dataclass(frozen=True)
class KnnPriceConfig:
    neighbours: int = field(default=20, metadata={"help": "neighbours per row"})
    similarity_power: float = field(default=4.0, metadata={"help": "weights are similarity ** power"})
    char_ngram_max: int = field(default=4, metadata={"help": "character n-grams 2..N of the item text"})
    max_features: int = field(default=100_000, metadata={"help": "TF-IDF vocabulary cap"})
    max_df: float = field(default=0.1, metadata={
        "help": f"ignore character n-grams in more than this share of training rows (never "
                f"fewer than {MIN_PRUNE_ROWS} rows): they barely move the ranking but slow the search down"})
    max_text_chars: int = field(default=300, metadata={"help": "only the first N characters (the item name)"})
    gbm_iterations: int = field(default=300, metadata={"help": "boosting iterations of the price model"})
    spaces: str = field(default="tfidf,embedding", metadata={
        "help": "neighbour spaces, comma-separated: tfidf (character n-grams), embedding (MiniLM sentences)"})
    text_model: Literal["minilm", "mpnet"] = field(default="minilm", metadata={
        "help": "sentence encoder: minilm (packaged, 384-d) or mpnet (all-mpnet-base-v2, 768-d, about 4x slower; "
                "catalog-ml weights install mpnet first)"})
    embedding_text_chars: int = field(default=DEFAULT_TEXT_CHARS, metadata={
        "help": "characters of text embedded per row"})


@register_approach
class KnnPrice(Approach):
    """Neighbour log prices (weighted mean, best match, spread), similarities and neighbour price-per-unit scaled by
    the row's own quantity -> HistGradientBoosting on log1p price. Neighbours come only from the training rows; for
    a training row, rows with the same normalised name are skipped, as the group-aware folds do for validation rows.
    Classification: the similarity-weighted class vote of the neighbours, averaged over the spaces."""

    name = "knn_price"
    Config = KnnPriceConfig
    tasks = ("regression", "classification")
    unsaved_attributes = ("train_", "train_vectors_")  # the search indexes hold what predicting needs

    @classmethod
    def warm_cache(cls, config: KnnPriceConfig, dataset: Dataset, cache_dir: Path | None) -> None:
        if "embedding" in [space.strip() for space in config.spaces.split(",")]:
            embed_dataset_texts(dataset, config.embedding_text_chars, cache_dir, config.text_model)

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        self.spaces_ = [s.strip() for s in c.spaces.split(",") if s.strip()]
        unknown = set(self.spaces_) - set(SPACES)
        if unknown or not self.spaces_:
            raise CatalogError(f"knn_price: spaces must be some of {', '.join(SPACES)} (got {c.spaces!r})")
        if "tfidf" in self.spaces_:
            self.vectoriser_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, c.char_ngram_max), min_df=1,
                                               max_df=max(int(c.max_df * len(train)), MIN_PRUNE_ROWS),
                                               max_features=c.max_features, sublinear_tf=True, dtype=np.float32)
        self.train_ = train
        self.train_digest_ = frame_digest(train)
        self.indexes_: dict[str, CosineNeighbours] = {}
        self.train_vectors_: dict[str, object] = {}
        self.cache_ = FittedCache(self.context.cache_dir, "knn_price_neighbours", source_files=[__file__])
        if self.is_classification:
            self.codes_ = self.target_codes(train)
            self.prior_ = np.bincount(self.codes_, minlength=len(self.classes)) / len(train)
            return
        self.log_price_ = np.log1p(self.target(train))
        quantities = quantity_features(train, self.spec)
        self.log_quantity_ = quantities["log_quantity_base"].to_numpy() if len(quantities.columns) else None
        self.names_ = item_names(train, self.spec).map(normalise_name).to_numpy()
        self.text_numbers_ = TextNumbers.fit(train, self.spec)
        features = self._features(train, exclude_names=self.names_)
        self.model_ = HistGradientBoostingRegressor(max_iter=c.gbm_iterations, learning_rate=0.05, max_leaf_nodes=31,
                                                    early_stopping=True, validation_fraction=0.1,
                                                    random_state=self.context.seed)
        self.model_.fit(features, self.log_price_)

    def prepare_to_save(self) -> None:
        for space in self.spaces_:  # a cached search spared building the index
            self._index(space)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.is_classification:
            return np.mean([self._class_votes(*self._neighbours(space, frame)) for space in self.spaces_], axis=0)
        log_price = self.model_.predict(self._features(frame, exclude_names=None))
        return self.prices_from_log1p(log_price)

    def _neighbours(self, space: str, frame: pd.DataFrame, training: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and indexes of the nearest training rows (``training``: of the training rows themselves),
        read from the fitted cache when this fold's search was run before with the same settings."""
        c = self.config
        settings = ({"char_ngram_max": c.char_ngram_max, "max_features": c.max_features, "max_df": c.max_df,
                     "max_text_chars": c.max_text_chars} if space == "tfidf"
                    else {"embedding_text_chars": c.embedding_text_chars, "model": text_model_tag(c.text_model)})
        key = self.cache_.key(space, settings, c.neighbours, self.spec.to_dict(), self.train_digest_,
                              "training rows" if training else frame_digest(frame))

        def search() -> dict[str, np.ndarray]:
            index_ = self._index(space)
            queries = self.train_vectors_[space] if training else self._space_vectors(space, frame)
            similarity, index = index_.kneighbors(queries)
            return {"similarity": similarity, "index": index.astype(np.int32)}  # a third less disk than int64

        found = self.cache_.arrays(key, len(frame), search)
        return found["similarity"], found["index"]

    def _index(self, space: str) -> CosineNeighbours:
        """The training rows' search index in ``space``, built (and the TF-IDF vocabulary fitted) on first use."""
        if space not in self.indexes_:
            self.train_vectors_[space] = self._space_vectors(space, self.train_, fit=True)
            self.indexes_[space] = CosineNeighbours(self.train_vectors_[space], self.config.neighbours + 10)
        return self.indexes_[space]

    def _space_vectors(self, space: str, frame: pd.DataFrame, fit: bool = False) -> object:
        """The rows in one neighbour space; ``fit`` fits the TF-IDF vocabulary on them first."""
        c = self.config
        if space == "tfidf":
            text = joined_text(frame, self.spec, c.max_text_chars)
            return self.vectoriser_.fit_transform(text) if fit else self.vectoriser_.transform(text)
        texts = joined_text(frame, self.spec, c.embedding_text_chars).tolist()
        return sentence_embeddings(texts, self.context.cache_dir, model=c.text_model)

    def _class_votes(self, similarity: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Similarity-weighted class shares of the neighbours, smoothed towards the training prior (one
        pseudo-neighbour) so no class gets probability 0."""
        similarity, index = similarity[:, :self.config.neighbours], index[:, :self.config.neighbours]
        weights = np.maximum(similarity, 1e-6) ** self.config.similarity_power
        votes = np.zeros((len(index), len(self.classes)))
        np.add.at(votes, (np.repeat(np.arange(len(index)), index.shape[1]), self.codes_[index].ravel()),
                  weights.ravel())
        pseudo = weights.sum(axis=1, keepdims=True) / index.shape[1]
        votes += pseudo * self.prior_
        return votes / votes.sum(axis=1, keepdims=True)

    def _features(self, frame: pd.DataFrame, exclude_names: np.ndarray | None) -> np.ndarray:
        """``exclude_names``: the frame is the training rows, and a row's neighbours with its own name are skipped."""
        own = quantity_features(frame, self.spec)
        blocks = [self._neighbour_columns(*self._neighbours(space, frame, training=exclude_names is not None), own,
                                          exclude_names) for space in self.spaces_]
        if len(own.columns):
            blocks.append(own.to_numpy(dtype=float))
        blocks += [numeric_attribute_matrix(frame, self.spec).to_numpy(dtype=float),
                   self.text_numbers_.raw(frame).to_numpy(dtype=float)]
        return np.column_stack(blocks)

    def _neighbour_columns(self, similarity: np.ndarray, index: np.ndarray, own: pd.DataFrame,
                           exclude_names: np.ndarray | None) -> np.ndarray:
        k = self.config.neighbours
        if exclude_names is not None:
            same = self.names_[index] == exclude_names[:, None]
            similarity = np.where(same, -1.0, similarity)
            order = np.argsort(-similarity, axis=1, kind="stable")
            similarity = np.take_along_axis(similarity, order, axis=1)
            index = np.take_along_axis(index, order, axis=1)
        similarity, index = similarity[:, :k], index[:, :k]
        usable = similarity >= 0
        weights = np.where(usable, np.maximum(similarity, 1e-6) ** self.config.similarity_power, 0.0)
        total = weights.sum(axis=1) + 1e-12
        prices = self.log_price_[index]
        mean = (weights * prices).sum(axis=1) / total
        spread = np.sqrt((weights * (prices - mean[:, None]) ** 2).sum(axis=1) / total)
        columns = [mean, spread, np.where(usable[:, 0], prices[:, 0], mean), similarity[:, 0],
                   np.where(usable, similarity, 0).mean(axis=1)]
        if self.log_quantity_ is not None and len(own.columns):
            per_unit = prices - self.log_quantity_[index]
            per_unit_mean = (weights * per_unit).sum(axis=1) / total
            columns += [per_unit_mean + own["log_quantity_base"].to_numpy()]
        return np.column_stack(columns)


if __name__ == "__main__":
    raise SystemExit(approach_main("knn_price"))
