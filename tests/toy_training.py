"""A small deterministic regression problem for the trainer tests and the torchrun worker."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


class ToyDataset(Dataset):
    def __init__(self, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.x = torch.tensor(rng.normal(size=(n, 6)), dtype=torch.float32)
        weights = np.array([0.8, -0.5, 0.3, 0.0, 0.2, 0.1])
        self.log_target = (3.0 + self.x.numpy() @ weights + rng.normal(scale=0.1, size=n)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "target": torch.tensor(self.log_target[i])}


class ToyModel(nn.Module):
    """A 'backbone' layer and a head, without dropout or batch norm (so processes can agree exactly)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.tower = nn.Sequential(nn.Linear(6, 16), nn.Tanh())
        self.backbones = nn.ModuleList([self.tower])
        self.head = nn.Linear(16, 1)

    def init_output_bias(self, mean: float) -> None:
        with torch.no_grad():
            self.head.bias.fill_(mean)

    def tower_outputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"features": self.tower(batch["x"]), "target": batch["target"]}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        features = batch["features"] if "features" in batch else self.tower(batch["x"])
        return self.head(features).squeeze(1)
