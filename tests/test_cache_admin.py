import os
import time

import numpy as np
import pytest

from catalog_ml.cli.main import main
from catalog_ml.errors import CatalogError
from catalog_ml.features.cache_admin import DAY_SECONDS, cache_parts, prune_fitted
from catalog_ml.features.fitted_cache import FittedCache

NOW = time.time()  # the command prunes against the clock


def fitted_file(cache_dir, producer: str, name: str, size: int, days_ago: float):
    path = cache_dir / "fitted" / producer / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - days_ago * DAY_SECONDS,) * 2)
    return path


@pytest.fixture
def cache_dir(tmp_path):
    folder = tmp_path / "cache"
    (folder / "minilm").mkdir(parents=True)
    (folder / "minilm" / "0.parquet").write_bytes(b"v" * 500)
    fitted_file(folder, "ridge", "old", 100, days_ago=30)
    fitted_file(folder, "ridge", "recent", 300, days_ago=2)
    fitted_file(folder, "knn", "middle", 200, days_ago=10)
    fitted_file(folder, "knn", "today", 400, days_ago=0)
    return folder


def remaining(folder):
    return sorted(p.stem for p in (folder / "fitted").rglob("*.npz"))


def test_parts_list_each_family_and_each_fitted_producer(cache_dir):
    parts = {part.name: part for part in cache_parts(cache_dir)}
    assert set(parts) == {"minilm", "fitted/ridge", "fitted/knn"}
    assert (parts["fitted/knn"].files, parts["fitted/knn"].bytes) == (2, 600)
    assert parts["fitted/ridge"].last_used == pytest.approx(NOW - 2 * DAY_SECONDS)
    assert [part.name for part in cache_parts(cache_dir)][0] == "fitted/knn"  # largest first


def test_prune_by_age_then_by_size_least_recently_used_first(cache_dir):
    dry = prune_fitted(cache_dir, unused_days=7, dry_run=True, now=NOW)
    assert (dry.removed_files, dry.removed_bytes) == (2, 300)
    assert len(remaining(cache_dir)) == 4  # a dry run removes nothing

    result = prune_fitted(cache_dir, unused_days=7, now=NOW)
    assert remaining(cache_dir) == ["recent", "today"]
    assert (result.kept_files, result.kept_bytes) == (2, 700)

    result = prune_fitted(cache_dir, max_bytes=450, now=NOW)
    assert remaining(cache_dir) == ["today"]  # the older of the two goes first
    assert (result.removed_bytes, result.kept_bytes) == (300, 400)
    assert (cache_dir / "minilm" / "0.parquet").is_file()  # text caches are never pruned


def test_prune_needs_a_rule_and_a_cache_folder(cache_dir, tmp_path):
    with pytest.raises(CatalogError, match="--unused-days"):
        prune_fitted(cache_dir)
    with pytest.raises(CatalogError, match="no cache folder"):
        cache_parts(tmp_path / "absent")


def test_a_cache_hit_marks_the_file_as_used(tmp_path):
    cache = FittedCache(tmp_path, "producer")
    key = cache.key("settings")
    cache.array(key, 3, lambda: np.arange(3.0))
    path = tmp_path / "fitted" / "producer" / f"{key}.npz"
    os.utime(path, (NOW - 100 * DAY_SECONDS,) * 2)
    cache.array(key, 3, lambda: np.arange(3.0))
    assert path.stat().st_mtime > NOW - DAY_SECONDS  # refreshed: pruning by last use keeps it


def test_cache_command_reports_and_prunes(cache_dir, capsys):
    assert main(["cache", "--cache-dir", str(cache_dir), "--unused-days", "7", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove 2 files (300 B); 2 files (700 B) stay" in out
    assert "fitted/knn" in out and "minilm" in out
    assert len(remaining(cache_dir)) == 4
    assert main(["cache", "--cache-dir", str(cache_dir), "--max-gb", "0"]) == 0
    assert remaining(cache_dir) == []
    assert main(["cache", "--cache-dir", str(cache_dir / "absent")]) == 2
    assert "no cache folder" in capsys.readouterr().err
