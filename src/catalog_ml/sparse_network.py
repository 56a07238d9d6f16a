"""An MLP whose first layer reads a sparse (CSR) matrix directly: the rows of the present columns' weights, summed
with the values as weights (``EmbeddingBag``), so the gradient touches only those rows (use ``SparseAdam``).

``train_sparse_network`` fits one network with any loss; ``SparseNetworkRegressor`` averages several seeds' networks
on a standardised target (sparse_mlp's regression, and lgbm_fusion's cross-fitted network column)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

PREDICT_ROWS = 4096
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class SparseInputNetwork(nn.Module):
    """CSR rows -> ``hidden`` -> 64 -> 64 -> ``outputs`` with ReLU between; the first layer's gradient is sparse."""

    def __init__(self, n_columns: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.first = nn.EmbeddingBag(n_columns, hidden, mode="sum", sparse=True)
        nn.init.normal_(self.first.weight, std=0.01)
        self.first_bias = nn.Parameter(torch.zeros(hidden))
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                  nn.Linear(64, outputs))

    def dense_parameters(self) -> list[nn.Parameter]:
        """Every parameter but the first layer's weights (those take a sparse optimiser)."""
        return [self.first_bias, *self.rest.parameters()]

    def forward(self, rows: sp.csr_matrix) -> torch.Tensor:
        indices = torch.from_numpy(rows.indices.astype(np.int64))
        offsets = torch.from_numpy(rows.indptr[:-1].astype(np.int64))
        values = torch.from_numpy(rows.data.astype(np.float32))
        return self.rest(self.first(indices, offsets, per_sample_weights=values) + self.first_bias)

    def predict(self, matrix: sp.csr_matrix) -> torch.Tensor:
        """Outputs for every row, in chunks, without gradients."""
        with torch.no_grad():
            chunks = [self(matrix[start:start + PREDICT_ROWS]) for start in range(0, matrix.shape[0], PREDICT_ROWS)]
        return torch.cat(chunks)


@dataclass(frozen=True)
class SparseNetworkSettings:
    """How one network is shaped and trained (sparse_mlp's settings of the same names)."""

    hidden: int = 128
    epochs: int = 5
    first_epoch_steps: int = 1024
    learning_rate: float = 3e-3
    loss: Literal["l1", "huber", "mse"] = "l1"  # regression only


def train_sparse_network(matrix: sp.csr_matrix, target: torch.Tensor, outputs: int, settings: SparseNetworkSettings,
                         seed: int, loss: LossFunction) -> SparseInputNetwork:
    """Fit one network: ``epochs`` passes, the batch doubling each pass from rows / ``first_epoch_steps`` (a power of
    two, at least 16); Adam, sparse Adam for the first layer."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network = SparseInputNetwork(matrix.shape[1], settings.hidden, outputs)
    sparse_optimiser = torch.optim.SparseAdam([network.first.weight], lr=settings.learning_rate)
    dense_optimiser = torch.optim.Adam(network.dense_parameters(), lr=settings.learning_rate)
    n_rows = matrix.shape[0]
    batch_size = max(16, 2 ** round(np.log2(max(n_rows / settings.first_epoch_steps, 1))))
    network.train()
    for epoch in range(settings.epochs):
        order = rng.permutation(n_rows)
        size = batch_size * 2 ** epoch
        for start in range(0, n_rows, size):
            rows = order[start:start + size]
            batch_loss = loss(network(matrix[rows]), target[rows])
            sparse_optimiser.zero_grad()
            dense_optimiser.zero_grad()
            batch_loss.backward()
            sparse_optimiser.step()
            dense_optimiser.step()
    network.eval()
    return network


def regression_loss(name: str) -> LossFunction:
    """``l1``, ``huber`` or ``mse`` between a one-output network's outputs and a target vector."""
    function = {"l1": nn.functional.l1_loss, "huber": nn.functional.huber_loss, "mse": nn.functional.mse_loss}[name]
    return lambda output, target: function(output.squeeze(1), target)


class SparseNetworkRegressor:
    """One network per seed on the standardised target; ``predict`` averages them (in the target's units)."""

    def __init__(self, settings: SparseNetworkSettings, seeds: Sequence[int]) -> None:
        self.settings = settings
        self.seeds = list(seeds)

    def fit(self, matrix: sp.csr_matrix, target: np.ndarray) -> SparseNetworkRegressor:
        target = np.asarray(target, dtype=np.float64)
        self.center_, self.scale_ = float(target.mean()), float(target.std() + 1e-6)
        standard = torch.tensor((target - self.center_) / self.scale_, dtype=torch.float32)
        loss = regression_loss(self.settings.loss)
        self.networks_ = [train_sparse_network(matrix, standard, 1, self.settings, seed, loss) for seed in self.seeds]
        return self

    def predict(self, matrix: sp.csr_matrix) -> np.ndarray:
        outputs = torch.stack([network.predict(matrix).squeeze(1) for network in self.networks_])
        return outputs.mean(dim=0).numpy().astype(np.float64) * self.scale_ + self.center_
