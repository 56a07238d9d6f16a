"""Sparse MLP: a small MLP whose first layer reads the word TF-IDF matrix directly (never densified; character
n-grams optional), on log1p price with an L1 loss (classification: cross-entropy); several seeds averaged. The model
that won Mercari's price challenge, here on the same fold's word TF-IDF that tfidf_ridge fits (read from the cache
when it has)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from catalog_ml.approach import Approach
from catalog_ml.cli_run import approach_main
from catalog_ml.config import shared_settings
from catalog_ml.registry import register_approach
from catalog_ml.sparse_text import SparseTextFeatures, SparseTextSettings


@dataclass(frozen=True)
class SparseMlpConfig:
    hidden: int = field(default=128, metadata={
        "help": "units of the first layer (one row of weights per TF-IDF column; later layers have 64). The time "
                "grows with it: one network of 3 passes and 128 first steps on myntra_styles fold 0 (207k "
                "columns), 64: 21 s, SMAPE 16.64; 128: 31 s, 16.32; 256: ~64 s (times with torch's SparseAdam, before "
                "LazyRowAdam cut them by ~30%)"})
    models: int = field(default=3, metadata={"help": "networks fitted with different seeds and averaged"})
    epochs: int = field(default=5, metadata={
        "help": "passes over the training rows (the batch doubles each pass). 5-fold SMAPE, 3 passes and 128 first "
                "steps -> 5 and 1,024: bigbasket 38.87 -> 37.23 (26 -> 55 s), flipkart1050 41.45 -> 40.12, books "
                "37.98 -> 37.78, mercari5k 44.58 -> 44.58, items1000 65.42 -> 65.32; myntra_styles fold 0 15.89 -> "
                "14.52 (30 -> 63 s of fitting with torch's SparseAdam; 40 s with LazyRowAdam, 5 folds 287 -> 187 s)"})
    first_epoch_steps: int = field(default=1024, metadata={
        "help": "steps of the first pass: sets its batch size (rows / this, a power of two, at least 16). On "
                "myntra_styles fold 0 with 5 passes, 256: 14.91, 512: 14.68, 1,024: 14.52; bigbasket 37.60 / 37.31 / "
                "37.23; below ~4k training rows every value gives batches of 16"})
    learning_rate: float = field(default=3e-3, metadata={"help": "Adam learning rate"})
    loss: Literal["l1", "huber", "mse"] = field(default="l1", metadata={
        "help": "regression loss on standardised log1p price, l1, huber or mse (5-fold SMAPE of four networks of "
                "256 units, 3 passes, l1 / huber: bigbasket 40.28 / 40.31, books 37.49 / 37.67, items1000 66.74 / "
                "67.13, flipkart1050 41.79 / 42.15; one network on mercari5k: l1 45.13, huber 45.35, mse 45.87)"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    word_max_features: int = field(default=200_000, metadata={"help": "word vocabulary cap"})
    char_max_features: int = field(default=0, metadata={
        "help": "character 3-5-gram vocabulary cap (0: word n-grams only). Characters multiply the first layer's work "
                "(~800 values a row on myntra_styles): 5-fold SMAPE with 3 passes, words only / with 200k character "
                "n-grams: items1000 65.42 / 66.44, flipkart1050 41.45 / 41.11, mercari5k 44.58 / 44.65 (13 / 43 s), "
                "books 37.98 / 37.63 (62 / 145 s), bigbasket 38.87 / 40.11 (23 / 67 s), myntra_styles 15.82 / 15.74 "
                "(166 / 600 s)"})
    char_max_chars: int = field(default=400, metadata={"help": "character n-grams read only the first N characters"})
    max_text_chars: int = field(default=4000, metadata={"help": "word n-grams read only the first N characters"})


@register_approach
class SparseMlp(Approach):
    """TF-IDF (sparse) -> hidden -> 64 -> 64 -> output, ReLU, Adam (lazy row-wise Adam for the first layer)."""

    name = "sparse_mlp"
    Config = SparseMlpConfig
    tasks = ("regression", "classification")

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        import torch

        from catalog_ml.sparse_network import SparseNetworkRegressor, SparseNetworkSettings, train_sparse_network

        c = self.config
        self.features_ = SparseTextFeatures(self.spec, shared_settings(SparseTextSettings, c), self.context.cache_dir)
        matrix = self.features_.fit_transform(train)
        settings = shared_settings(SparseNetworkSettings, c)
        seeds = [self.context.seed + i for i in range(c.models)]
        if self.is_classification:
            self.present_, codes = self.local_class_codes(train)
            target = torch.tensor(codes, dtype=torch.long)
            self.networks_ = [train_sparse_network(matrix, target, len(self.present_), settings, seed,
                                                   torch.nn.functional.cross_entropy) for seed in seeds]
        else:
            self.regressor_ = SparseNetworkRegressor(settings, seeds).fit(matrix, np.log1p(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        import torch

        matrix = self.features_.transform(frame)
        if not self.is_classification:
            return self.prices_from_log1p(self.regressor_.predict(matrix))
        probabilities = torch.stack([torch.softmax(network.predict(matrix), dim=1) for network in self.networks_])
        return self.full_proba(probabilities.mean(dim=0).numpy(), self.present_)


if __name__ == "__main__":
    raise SystemExit(approach_main("sparse_mlp"))
