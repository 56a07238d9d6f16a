"""Classical text classifiers that users compare against, on the sparse TF-IDF matrix: logistic regression, linear
SVM, random forest and naive Bayes (one approach, the model chosen by a setting; run each with ``--tag``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import register_approach
from catalog_ml.core.resources import available_threads
from catalog_ml.features.sparse_text import SparseTextFeatures, SparseTextSettings


@dataclass(frozen=True)
class ClassicalConfig:
    model: Literal["logreg", "linear_svm", "random_forest", "naive_bayes"] = field(default="linear_svm", metadata={
        "help": "logreg, linear_svm (probabilities: softmax of the margins), random_forest or naive_bayes "
                "(complement NB on the text only)"})
    c: float = field(default=1.0, metadata={"help": "inverse regularisation of logreg and linear_svm"})
    trees: int = field(default=300, metadata={"help": "random_forest: number of trees"})
    nb_alpha: float = field(default=0.1, metadata={"help": "naive_bayes: additive smoothing"})
    word_max_features: int = field(default=100_000, metadata={"help": "word (1,2)-gram vocabulary cap"})
    char_max_features: int = field(default=100_000, metadata={"help": "character 3-5-gram vocabulary cap (0: none)"})
    max_text_chars: int = field(default=2000, metadata={"help": "word n-grams read only the first N characters"})


@register_approach
class ClassicalBaselines(Approach):
    """One classical classifier over word + character TF-IDF, categorical tokens and scaled numeric attributes."""

    name = "classical_baselines"
    Config = ClassicalConfig
    tasks = ("classification",)

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        c = self.config
        settings = SparseTextSettings(word_max_features=c.word_max_features, char_max_features=c.char_max_features,
                                      max_text_chars=c.max_text_chars, use_dense=c.model != "naive_bayes")
        self.features_ = SparseTextFeatures(self.spec, settings, self.context.cache_dir)
        matrix = self.features_.fit_transform(train)
        self.present_, codes = self.local_class_codes(train)
        seed = self.context.seed
        self.model_ = {
            "logreg": lambda: LogisticRegression(C=c.c, max_iter=300, random_state=seed),
            "linear_svm": lambda: LinearSVC(C=c.c, max_iter=5000, random_state=seed),
            "random_forest": lambda: RandomForestClassifier(n_estimators=c.trees, max_features="sqrt",
                                                            n_jobs=available_threads(), min_samples_leaf=1,
                                                            random_state=seed),
            "naive_bayes": lambda: ComplementNB(alpha=c.nb_alpha),
        }[c.model]()
        self.model_.fit(matrix, codes)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        matrix = self.features_.transform(frame)
        if self.config.model == "linear_svm":
            margins = self.model_.decision_function(matrix)
            if margins.ndim == 1:  # two classes: one margin for the second
                margins = np.column_stack([-margins, margins])
            proba = softmax(margins, axis=1)
        else:
            proba = self.model_.predict_proba(matrix)
        return self.full_proba(proba, self.present_)


if __name__ == "__main__":
    raise SystemExit(approach_main("classical_baselines"))
