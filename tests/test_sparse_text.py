import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from catalog_ml.data.spec import spec_from_mapping
from catalog_ml.features.sparse_text import SparseTextFeatures, SparseTextSettings


def _reviews_frame(counts: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    words = np.array(["novel", "guide", "history", "poems", "atlas", "cookbook"])
    return pd.DataFrame({
        "id": range(len(counts)),
        "Title": [" ".join(rng.choice(words, 3)) for _ in counts],
        "Ratings": [f"{count:,} customer reviews" for count in counts],
        "weight": rng.lognormal(5, 1.5, len(counts)),
        "price": 5.0 * counts ** 0.5,
    })


def test_a_linear_model_reads_counts_written_in_text_and_the_log_of_skewed_attributes():
    """Prices follow a count written as text ('1,234 customer reviews'): every held-out count is a token never seen
    in training, so only the count's magnitude can predict them."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 20_000, 400)
    train, test = _reviews_frame(counts[:300], rng), _reviews_frame(counts[300:] + 20_000, rng)
    spec = spec_from_mapping({"name": "books", "id_column": "id", "target": "price",
                              "text_columns": ["Title", "Ratings"], "numeric_columns": ["weight"]})
    features = SparseTextFeatures(spec, SparseTextSettings(char_max_features=0))
    model = Ridge(alpha=1.0).fit(features.fit_transform(train), np.log1p(train["price"]))
    predicted = model.predict(features.transform(test))
    assert np.corrcoef(predicted, np.log1p(test["price"]))[0, 1] > 0.9
    dense = features.transform(test)[:, -features.scaler_.n_features_in_:].toarray()
    log_weight = (np.log1p(test["weight"]) - features.scaler_.mean_[2]) / features.scaler_.scale_[2]
    np.testing.assert_allclose(dense[:, 2], log_weight, rtol=1e-5)  # weight, its missing flag, then its log
