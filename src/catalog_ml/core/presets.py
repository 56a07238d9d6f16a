"""Presets: which approaches a multi-approach fit runs, in the manner of AutoGluon's ``fast``/``medium``/``best``.

Chosen from measured cost (``docs/benchmarks.md``: 5,000 generated rows, 5 folds, 2 cores; seconds for all folds):
tfidf_ridge 11 s, lgbm_fusion 24 s, sparse_mlp 24 s, knn_price 26 s (plus about 50 s to embed the texts with MiniLM
once), mlp_fusion 17 s (the same vectors), xgb_spacy 104 s. ``fast`` keeps the two cheapest approaches that blend
well (a linear and a tree model), ``medium`` adds the two that most often lift the blend on the real tables (the
sparse network and the neighbours), ``best`` runs every CPU approach. Measured with ``catalog-ml fit`` from cold
caches (``benchmarks/bench_presets.py``): fast 45 s (honest blend SMAPE 20.19 ± 0.14 against tfidf_ridge's 20.87),
medium 155 s (19.74 ± 0.16), best 226 s (19.60 ± 0.15). The optional mpnet sentence encoder is in no preset: on
mercari5k it gave knn_price 45.43 against MiniLM's 45.45 for 4.8x the time. Approaches whose optional library is
missing are left out and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog_ml.core.registry import approach_names, get_approach, unavailable_approaches
from catalog_ml.errors import CatalogError


@dataclass(frozen=True)
class Preset:
    """A named list of approaches, with what it is for."""

    name: str
    approaches: tuple[str, ...]
    purpose: str


PRESETS = {preset.name: preset for preset in (
    Preset("fast", ("tfidf_ridge", "lgbm_fusion"), "a first honest blend: 45 s on 5k rows, 2 cores"),
    Preset("medium", ("tfidf_ridge", "lgbm_fusion", "sparse_mlp", "knn_price"),
           "the approaches that carry most blends: 155 s on 5k rows"),
    Preset("best", ("tfidf_ridge", "lgbm_fusion", "sparse_mlp", "knn_price", "mlp_fusion", "xgb_spacy"),
           "every CPU approach: 226 s on 5k rows"),
)}
DEFAULT_PRESET = "medium"


def preset_approaches(name: str, task: str) -> tuple[list[str], list[str]]:
    """(approaches of preset ``name`` that can run here on ``task``, those left out with the reason)."""
    if name not in PRESETS:
        raise CatalogError(f"unknown preset '{name}' (presets: {', '.join(PRESETS)})")
    available, left_out = [], []
    missing = unavailable_approaches()
    for approach in PRESETS[name].approaches:
        if approach in missing:
            left_out.append(f"{approach} ({missing[approach]})")
        elif approach in approach_names() and task in get_approach(approach).tasks:
            available.append(approach)
        else:
            left_out.append(f"{approach} (does not support {task})")
    if not available:
        raise CatalogError(f"preset '{name}': none of its approaches can run here ({'; '.join(left_out)})")
    return available, left_out


def describe_presets() -> str:
    """One line per preset: its name, approaches and purpose (for --help)."""
    return "\n".join(f"  {p.name:<7} {', '.join(p.approaches)}: {p.purpose}" for p in PRESETS.values())
