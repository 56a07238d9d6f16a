"""Sparse MLP: a small MLP whose first layer reads the word TF-IDF matrix directly (never densified; character
n-grams optional), on log1p price with an L1 loss (classification: cross-entropy); several seeds averaged. The model
that won Mercari's price challenge, here on the same fold's word TF-IDF that tfidf_ridge fits (read from the cache
when it has)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from catalog_ml.approach import Approach
from catalog_ml.cli_run import approach_main
from catalog_ml.registry import register_approach
from catalog_ml.sparse_text import SparseTextFeatures, SparseTextSettings

PREDICT_ROWS = 4096


@dataclass(frozen=True)
class SparseMlpConfig:
    hidden: int = field(default=128, metadata={
        "help": "units of the first layer (one row of weights per TF-IDF column; later layers have 64). The time "
                "grows with it: one network on myntra_styles fold 0 (207k columns), 64: 21 s, SMAPE 16.64; 128: "
                "31 s, 16.32; 256: ~64 s"})
    models: int = field(default=3, metadata={"help": "networks fitted with different seeds and averaged"})
    epochs: int = field(default=3, metadata={"help": "passes over the training rows (the batch doubles each pass)"})
    first_epoch_steps: int = field(default=128, metadata={
        "help": "steps of the first pass: sets its batch size (rows / this, a power of two, at least 16)"})
    learning_rate: float = field(default=3e-3, metadata={"help": "Adam learning rate"})
    loss: Literal["l1", "huber", "mse"] = field(default="l1", metadata={
        "help": "regression loss on standardised log1p price, l1, huber or mse (5-fold SMAPE of four networks of "
                "256 units, l1 / huber: bigbasket 40.28 / 40.31, books 37.49 / 37.67, items1000 66.74 / 67.13, "
                "flipkart1050 41.79 / 42.15; one network on mercari5k: l1 45.13, huber 45.35, mse 45.87)"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    word_max_features: int = field(default=200_000, metadata={"help": "word vocabulary cap"})
    char_max_features: int = field(default=0, metadata={
        "help": "character 3-5-gram vocabulary cap (0: word n-grams only). Characters multiply the first layer's work "
                "(~800 values a row on myntra_styles): 5-fold SMAPE words only / with 200k character n-grams: "
                "items1000 65.42 / 66.44, flipkart1050 41.45 / 41.11, mercari5k 44.58 / 44.65 (13 / 43 s), books "
                "37.98 / 37.63 (62 / 145 s), bigbasket 38.87 / 40.11 (23 / 67 s), myntra_styles 15.82 / 15.74 "
                "(166 / 600 s)"})
    char_max_chars: int = field(default=400, metadata={"help": "character n-grams read only the first N characters"})
    max_text_chars: int = field(default=4000, metadata={"help": "word n-grams read only the first N characters"})


@register_approach
class SparseMlp(Approach):
    """TF-IDF (sparse) -> hidden -> 64 -> 64 -> output, ReLU, Adam (sparse Adam for the first layer)."""

    name = "sparse_mlp"
    Config = SparseMlpConfig
    tasks = ("regression", "classification")

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        import torch

        c = self.config
        self.features_ = SparseTextFeatures(self.spec, SparseTextSettings.from_config(c), self.context.cache_dir)
        matrix = self.features_.fit_transform(train)
        if self.is_classification:
            self.present_, codes = self.local_class_codes(train)
            target = torch.tensor(codes, dtype=torch.long)
            outputs = len(self.present_)
        else:
            log_price = np.log1p(self.target(train))
            self.center_, self.scale_ = float(log_price.mean()), float(log_price.std() + 1e-6)
            target = torch.tensor((log_price - self.center_) / self.scale_, dtype=torch.float32)
            outputs = 1
        self.networks_ = [self._fit_one(matrix, target, outputs, self.context.seed + i) for i in range(c.models)]

    def _fit_one(self, matrix: sp.csr_matrix, target, outputs: int, seed: int):  # noqa: ANN001, ANN202 (torch)
        import torch

        from catalog_ml.sparse_network import SparseInputNetwork

        c = self.config
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        network = SparseInputNetwork(matrix.shape[1], c.hidden, outputs)
        sparse_optimiser = torch.optim.SparseAdam([network.first.weight], lr=c.learning_rate)
        dense_optimiser = torch.optim.Adam(network.dense_parameters(), lr=c.learning_rate)
        n_rows = matrix.shape[0]
        batch_size = max(16, 2 ** round(np.log2(max(n_rows / c.first_epoch_steps, 1))))
        network.train()
        for epoch in range(c.epochs):
            order = rng.permutation(n_rows)
            size = batch_size * 2 ** epoch
            for start in range(0, n_rows, size):
                rows = order[start:start + size]
                output = network(matrix[rows])
                loss = self._loss(output, target[rows])
                sparse_optimiser.zero_grad()
                dense_optimiser.zero_grad()
                loss.backward()
                sparse_optimiser.step()
                dense_optimiser.step()
        network.eval()
        return network

    def _loss(self, output, target):  # noqa: ANN001, ANN202 (torch tensors)
        from torch import nn

        if self.is_classification:
            return nn.functional.cross_entropy(output, target)
        output = output.squeeze(1)
        return {"l1": nn.functional.l1_loss, "huber": nn.functional.huber_loss,
                "mse": nn.functional.mse_loss}[self.config.loss](output, target)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        import torch

        matrix = self.features_.transform(frame)
        outputs = []
        with torch.no_grad():
            for network in self.networks_:
                chunks = [network(matrix[start:start + PREDICT_ROWS])
                          for start in range(0, matrix.shape[0], PREDICT_ROWS)]
                output = torch.cat(chunks)
                outputs.append(torch.softmax(output, dim=1) if self.is_classification else output.squeeze(1))
        mean = torch.stack(outputs).mean(dim=0).numpy()
        if self.is_classification:
            return self.full_proba(mean, self.present_)
        return self.prices_from_log1p(mean * self.scale_ + self.center_)


if __name__ == "__main__":
    raise SystemExit(approach_main("sparse_mlp"))
