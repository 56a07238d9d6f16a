"""TF-IDF + Ridge: word and character n-gram TF-IDF (kept sparse) plus parsed quantities, Ridge on log1p price."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from catalog_ml.approach import Approach
from catalog_ml.cli_run import approach_main
from catalog_ml.registry import register_approach
from catalog_ml.text import categorical_tokens, dense_block, joined_text, numeric_attribute_matrix, quantity_features


@dataclass(frozen=True)
class TfidfRidgeConfig:
    alpha: float = field(default=1.5, metadata={"help": "Ridge L2 strength"})
    word_ngram_max: int = field(default=2, metadata={"help": "word n-grams from 1 to this"})
    word_min_df: int = field(default=2, metadata={"help": "ignore words in fewer rows than this"})
    word_max_features: int = field(default=200_000, metadata={"help": "word vocabulary cap"})
    char_ngram_min: int = field(default=3, metadata={"help": "shortest character n-gram (within word boundaries)"})
    char_ngram_max: int = field(default=5, metadata={"help": "longest character n-gram"})
    char_max_features: int = field(default=200_000, metadata={"help": "character vocabulary cap (0 disables)"})
    char_max_chars: int = field(default=400, metadata={"help": "character n-grams read only the first N characters"})
    max_text_chars: int = field(default=4000, metadata={"help": "word n-grams read only the first N characters"})
    use_quantities: bool = field(default=True, metadata={"help": "add parsed catalog_content quantities"})


@register_approach
class TfidfRidge(Approach):
    """Sparse word + char TF-IDF, categorical tokens, scaled numeric attributes and quantities -> Ridge(log1p)."""

    name = "tfidf_ridge"
    Config = TfidfRidgeConfig

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        self.word_ = TfidfVectorizer(ngram_range=(1, c.word_ngram_max), min_df=c.word_min_df,
                                     max_features=c.word_max_features, sublinear_tf=True, dtype=np.float32,
                                     token_pattern=r"(?u)\b\w+\b")
        self.char_ = (TfidfVectorizer(analyzer="char_wb", ngram_range=(c.char_ngram_min, c.char_ngram_max),
                                      min_df=2, max_features=c.char_max_features, sublinear_tf=True,
                                      dtype=np.float32) if c.char_max_features else None)
        self.scaler_ = StandardScaler()
        blocks = [self.word_.fit_transform(self._word_text(train))]
        if self.char_ is not None:
            blocks.append(self.char_.fit_transform(joined_text(train, self.spec, c.char_max_chars)))
        blocks.append(dense_block(pd.DataFrame(self.scaler_.fit_transform(self._dense(train)))))
        self.model_ = Ridge(alpha=c.alpha, random_state=self.context.seed)
        self.model_.fit(sp.hstack(blocks, format="csr"), np.log1p(self.target(train)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = [self.word_.transform(self._word_text(frame))]
        if self.char_ is not None:
            blocks.append(self.char_.transform(joined_text(frame, self.spec, self.config.char_max_chars)))
        blocks.append(dense_block(pd.DataFrame(self.scaler_.transform(self._dense(frame)))))
        log_price = self.model_.predict(sp.hstack(blocks, format="csr"))
        return self.prices_from_log1p(log_price)

    def _word_text(self, frame: pd.DataFrame) -> pd.Series:
        return joined_text(frame, self.spec, self.config.max_text_chars) + " " + categorical_tokens(frame, self.spec)

    def _dense(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = [numeric_attribute_matrix(frame, self.spec)]
        if self.config.use_quantities:
            parts.append(quantity_features(frame, self.spec))
        dense = pd.concat(parts, axis=1)
        return dense if dense.shape[1] else pd.DataFrame({"bias": np.zeros(len(frame))})


if __name__ == "__main__":
    raise SystemExit(approach_main("tfidf_ridge"))
