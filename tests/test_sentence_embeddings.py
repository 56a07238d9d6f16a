import numpy as np

from catalog_ml.nn.sentence_embeddings import TextVectorStore, sentence_embeddings


def test_store_embeds_each_text_once_and_rebuilds_corrupt_shards(tmp_path):
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    store = TextVectorStore(tmp_path / "store")
    first = store.lookup(["a", "bb", "a"], encode)
    assert first[:, 0].tolist() == [1.0, 2.0, 1.0] and calls == [["a", "bb"]]
    store.lookup(["bb", "ccc"], encode)
    assert calls[-1] == ["ccc"]
    for shard in (tmp_path / "store").glob("*.parquet"):
        shard.write_bytes(b"truncated")
    again = store.lookup(["a", "bb", "ccc"], encode)
    assert again[:, 0].tolist() == [1.0, 2.0, 3.0] and sorted(calls[-1]) == ["a", "bb", "ccc"]


def test_real_minilm_embeddings_offline(tmp_path):
    vectors = sentence_embeddings(["Salsa, 12 Ounce (Pack of 6)", "AA Batteries, 24 Count"], tmp_path)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors, sentence_embeddings(["Salsa, 12 Ounce (Pack of 6)", "AA Batteries, 24 Count"],
                                                       tmp_path))


def test_vectors_of_another_model_size_are_rebuilt_not_reused(tmp_path):
    def encode_small(texts):
        return np.ones((len(texts), 2), dtype=np.float32)

    def encode_large(texts):
        return np.zeros((len(texts), 3), dtype=np.float32)

    TextVectorStore(tmp_path / "store", dim=2).lookup(["a", "b"], encode_small)
    vectors = TextVectorStore(tmp_path / "store", dim=3).lookup(["a", "b"], encode_large)
    assert vectors.shape == (2, 3) and not vectors.any()
