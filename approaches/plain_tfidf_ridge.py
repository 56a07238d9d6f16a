"""Plain TF-IDF + Ridge: scikit-learn's default word TF-IDF over the text and categorical columns joined, and a
default Ridge on log1p price. The untuned yardstick a competitor writes first (``tfidf_ridge`` is the tuned one:
word and character n-grams, scaled numeric attributes, quantities and text numbers, a chosen L2 strength); the
benchmarks report every approach against both."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import register_approach
from catalog_ml.features.text import categorical_tokens, joined_text


@dataclass(frozen=True)
class PlainTfidfRidgeConfig:
    alpha: float = field(default=1.0, metadata={"help": "Ridge L2 strength (scikit-learn's default)"})


@register_approach
class PlainTfidfRidge(Approach):
    """``TfidfVectorizer()`` on the text and categorical columns -> ``Ridge()`` on log1p price (regression only)."""

    name = "plain_tfidf_ridge"
    Config = PlainTfidfRidgeConfig
    tasks = ("regression",)

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        self.tfidf_ = TfidfVectorizer(dtype=np.float32)
        matrix = self.tfidf_.fit_transform(self._text(train))
        self.model_ = Ridge(alpha=self.config.alpha, random_state=self.context.seed)
        self.model_.fit(matrix, np.log1p(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.prices_from_log1p(self.model_.predict(self.tfidf_.transform(self._text(frame))))

    def _text(self, frame: pd.DataFrame) -> pd.Series:
        return joined_text(frame, self.spec) + " " + categorical_tokens(frame, self.spec)


if __name__ == "__main__":
    raise SystemExit(approach_main("plain_tfidf_ridge"))
