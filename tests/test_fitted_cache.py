import numpy as np
import pandas as pd

from catalog_ml.features.fitted_cache import FittedCache, array_digest, frame_digest


class Counter:
    def __init__(self, rows: int = 4) -> None:
        self.calls = 0
        self.rows = rows

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return {"value": np.arange(self.rows, dtype=np.float32) * self.calls, "index": np.ones((self.rows, 2), int)}


def test_arrays_are_computed_once_per_key_and_read_back_exactly(tmp_path):
    cache, compute = FittedCache(tmp_path, "producer"), Counter()
    key = cache.key({"alpha": 1.0}, "digest")
    first = cache.arrays(key, 4, compute)
    again = FittedCache(tmp_path, "producer").arrays(key, 4, compute)
    assert compute.calls == 1
    assert again.keys() == first.keys()
    assert all(np.array_equal(again[name], first[name]) and again[name].dtype == first[name].dtype for name in first)
    assert cache.key({"alpha": 2.0}, "digest") != key
    assert FittedCache(tmp_path, "other").key({"alpha": 1.0}, "digest") != key
    assert FittedCache(None, "producer").arrays(key, 4, compute)["value"][1] == 2.0  # no folder: always computed


def test_truncated_foreign_or_wrong_sized_files_are_rebuilt_with_a_warning(tmp_path, caplog):
    cache, compute = FittedCache(tmp_path, "producer"), Counter()
    key = cache.key("a")
    cache.arrays(key, 4, compute)
    path = tmp_path / "fitted" / "producer" / f"{key}.npz"
    path.write_bytes(path.read_bytes()[:50])
    assert cache.arrays(key, 4, compute)["value"][1] == 2.0
    assert "unreadable fitted cache" in caplog.text

    other = cache.key("b")
    path.rename(tmp_path / "fitted" / "producer" / f"{other}.npz")  # a file that holds another key
    assert cache.arrays(other, 4, compute)["value"][1] == 3.0
    assert "holds another key" in caplog.text

    assert len(cache.arrays(other, 5, Counter(5))["value"]) == 5  # stored for 4 rows, asked for 5
    assert "does not hold 5 rows" in caplog.text


def test_an_edited_source_file_changes_the_key(tmp_path):
    module = tmp_path / "approach.py"
    module.write_text("A = 1\n")
    before = FittedCache(tmp_path, "p", source_files=[module]).key("x")
    module.write_text("A = 2\n")
    from catalog_ml.features.fitted_cache import source_digest
    source_digest.cache_clear()
    assert FittedCache(tmp_path, "p", source_files=[module]).key("x") != before


def test_digests_see_every_value_and_dtype_but_not_the_index():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    assert frame_digest(frame) == frame_digest(frame.set_axis([7, 8, 9]))
    assert frame_digest(frame) != frame_digest(frame.assign(b=["x", None, "y"]))
    assert frame_digest(frame) != frame_digest(frame.astype({"a": float}))
    assert frame_digest(frame) != frame_digest(frame.iloc[::-1])
    values = np.array([1.0, 2.0])
    assert array_digest(values) != array_digest(values.astype(np.float32))
    assert array_digest(values) != array_digest(values[::-1])
