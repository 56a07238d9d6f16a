"""Seeds for one fold, set by the runner (approaches never set global seeds)."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def fold_seed(seed: int, fold: int) -> int:
    """A distinct, reproducible seed per (run seed, fold); fold -1 (fit on everything) included."""
    return (seed * 1_000_003 + (fold + 2) * 7919) % (2**31 - 1)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when already imported) torch."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
