"""An MLP whose first layer reads a sparse (CSR) matrix directly: the rows of the present columns' weights, summed
with the values as weights (``EmbeddingBag``), so the gradient touches only those rows (use ``SparseAdam``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn


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
