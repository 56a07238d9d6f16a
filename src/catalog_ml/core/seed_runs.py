"""Multi-seed runs: one approach repeated with several seeds on the same folds, and the spread of its scores."""

from __future__ import annotations

import logging

import pandas as pd

from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)


def parse_seed_list(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> (0, 1, 2); duplicates are dropped with a warning, anything else non-integer is refused."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CatalogError(f"--seeds expects comma-separated integers, got {text!r}") from None
    if not seeds:
        raise CatalogError("--seeds is empty")
    unique = tuple(dict.fromkeys(seeds))
    if len(unique) < len(seeds):
        log.warning("--seeds %s repeats a seed: running %s once each", text, ",".join(map(str, unique)))
    return unique


def seed_run_tag(tag: str | None, seed: int) -> str:
    """The run-folder tag of one seed (``seed3``, or ``TAG-seed3``)."""
    return f"{tag}-seed{seed}" if tag else f"seed{seed}"


def seed_spread(tables: dict[int, pd.DataFrame], metric: str = "smape") -> pd.DataFrame:
    """Mean and standard deviation of ``metric`` over seeds, per fold and overall (``fold == "all"``)."""
    long = pd.concat([t.assign(seed=seed)[["seed", "fold", metric]] for seed, t in tables.items()],
                     ignore_index=True)
    long["fold"] = long["fold"].astype(str)
    spread = long.groupby("fold", sort=False)[metric].agg(["mean", "std", "min", "max", "count"]).reset_index()
    spread = spread.rename(columns={"count": "seeds"})
    spread["std"] = spread["std"].fillna(0.0)
    return spread
