import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from catalog_ml.nn import neighbours
from catalog_ml.nn.neighbours import CosineNeighbours


@pytest.mark.parametrize("sparse", [False, True])
def test_matches_scikit_learn_brute_force_cosine(sparse, monkeypatch):
    monkeypatch.setattr(neighbours, "CHUNK_BYTES", 4 * 300 * 20)  # 20-row chunks: many chunks on both threads
    rng = np.random.default_rng(0)
    base, queries = rng.normal(size=(300, 12)), rng.normal(size=(97, 12))
    if sparse:
        base, queries = (sp.random(n, 50, density=0.2, random_state=s, format="csr") for n, s in ((300, 1), (97, 2)))
    expected_distance, expected_index = NearestNeighbors(n_neighbors=7, metric="cosine", algorithm="brute").fit(
        base).kneighbors(queries)
    similarity, index = CosineNeighbours(base, 7).kneighbors(queries)
    assert similarity.shape == index.shape == (97, 7)
    assert np.allclose(similarity, np.clip(1.0 - expected_distance, 0.0, 1.0), atol=1e-5)
    assert np.mean(index == expected_index) > 0.99  # the same rows, barring float ties
    assert np.all(np.diff(similarity, axis=1) <= 1e-7)  # best first


def test_more_neighbours_than_rows_and_empty_queries():
    base = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    model = CosineNeighbours(base, 10)
    similarity, index = model.kneighbors(sp.csr_matrix(np.array([[1.0, 0.1], [0.0, 0.0]])))
    assert index.shape == (2, 3) and index[0, 0] == 0
    assert np.all(similarity[1] == 0.0)  # an all-zero query is similar to nothing
    assert model.kneighbors(sp.csr_matrix((0, 2)))[0].shape == (0, 3)
    with pytest.raises(ValueError, match="at least one base row"):
        CosineNeighbours(np.zeros((0, 4)), 3)
