"""TF-IDF + Ridge: word and character n-gram TF-IDF (kept sparse) plus parsed quantities, Ridge on log1p price
(classification: logistic regression)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.config import shared_settings
from catalog_ml.core.registry import register_approach
from catalog_ml.features.sparse_text import SparseTextFeatures, SparseTextSettings


@dataclass(frozen=True)
class TfidfRidgeConfig:
    alpha: float = field(default=1.5, metadata={"help": "Ridge L2 strength"})
    logistic_c: float = field(default=5.0, metadata={"help": "classification: inverse L2 strength of the "
                                                             "logistic regression"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    word_min_df: int = field(default=2, metadata={"help": "ignore words in fewer rows than this"})
    word_max_features: int = field(default=200_000, metadata={"help": "word vocabulary cap"})
    char_ngram_min: int = field(default=3, metadata={"help": "shortest character n-gram (within word boundaries)"})
    char_ngram_max: int = field(default=5, metadata={"help": "longest character n-gram"})
    char_max_features: int = field(default=200_000, metadata={"help": "character vocabulary cap (0 disables)"})
    char_max_chars: int = field(default=400, metadata={"help": "character n-grams read only the first N characters"})
    max_text_chars: int = field(default=4000, metadata={"help": "word n-grams read only the first N characters"})
    use_quantities: bool = field(default=True, metadata={"help": "add parsed catalog_content quantities"})
    max_iter: int = field(default=300, metadata={"help": "classification: logistic regression iterations at most"})


@register_approach
class TfidfRidge(Approach):
    """Sparse word + char TF-IDF, categorical tokens, scaled numeric attributes and quantities -> Ridge(log1p);
    for classification, multinomial logistic regression on the same matrix."""

    name = "tfidf_ridge"
    Config = TfidfRidgeConfig
    tasks = ("regression", "classification")

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        self.features_ = SparseTextFeatures(self.spec, shared_settings(SparseTextSettings, c), self.context.cache_dir)
        matrix = self.features_.fit_transform(train)
        if self.is_classification:
            self.present_, codes = self.local_class_codes(train)
            self.model_ = LogisticRegression(C=c.logistic_c, max_iter=c.max_iter, random_state=self.context.seed)
            self.model_.fit(matrix, codes)
        else:
            self.model_ = Ridge(alpha=c.alpha, random_state=self.context.seed)
            self.model_.fit(matrix, np.log1p(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        matrix = self.features_.transform(frame)
        if self.is_classification:
            return self.full_proba(self.model_.predict_proba(matrix), self.present_)
        return self.prices_from_log1p(self.model_.predict(matrix))


if __name__ == "__main__":
    raise SystemExit(approach_main("tfidf_ridge"))
