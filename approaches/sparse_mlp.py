"""Sparse MLP: a small MLP whose first layer reads the word TF-IDF matrix directly (never densified; character
n-grams optional), on log1p price with an L1 loss (classification: cross-entropy); several seeds averaged. The model
that won Mercari's price challenge, here on the same fold's word TF-IDF that tfidf_ridge fits (read from the cache
when it has)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.config import shared_settings
from catalog_ml.core.registry import register_approach
from catalog_ml.features.sparse_text import SparseTextFeatures, SparseTextSettings


@dataclass(frozen=True)
class SparseMlpConfig:
    hidden: int = field(default=128, metadata={
        "help": "units of the first layer (one row of weights per TF-IDF column; later layers "
                "have 64); the time grows with it"})
    models: int = field(default=3, metadata={"help": "networks fitted with different seeds and averaged"})
    epochs: int = field(default=5, metadata={
        "help": "passes over the training rows (the batch doubles each pass)"})
    first_epoch_steps: int = field(default=1024, metadata={
        "help": "steps of the first pass: sets its batch size (rows / this, a power of two, at "
                "least 16)"})
    learning_rate: float = field(default=3e-3, metadata={"help": "Adam learning rate"})
    loss: Literal["l1", "huber", "mse"] = field(default="l1", metadata={
        "help": "regression loss on standardised log1p price: l1, huber or mse"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    word_max_features: int = field(default=200_000, metadata={"help": "word vocabulary cap"})
    char_max_features: int = field(default=0, metadata={
        "help": "character 3-5-gram vocabulary cap (0: word n-grams only); characters multiply "
                "the first layer's work"})
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

        from catalog_ml.nn.sparse_network import SparseNetworkRegressor, SparseNetworkSettings, train_sparse_network

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
