"""On-disk cache of computed feature tables, keyed by a content hash of the inputs and the producer's version.

A cache file that cannot be read (truncated by a crash, written by another version) is detected, logged and rebuilt,
never silently reused.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from catalog_ml.atomic import write_frame_atomic

log = logging.getLogger(__name__)


def content_key(producer: str, texts: Iterable[str]) -> str:
    """SHA-256 over the producer's name/version and every input text, in order."""
    digest = hashlib.sha256(producer.encode())
    for text in texts:
        digest.update(b"\x1e")
        digest.update(str(text).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def cached_frame(cache_dir: Path, producer: str, texts: list[str], compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``compute()`` once per (producer, texts); later calls read ``cache_dir/producer/<key>.parquet``."""
    key = content_key(producer, texts)
    path = Path(cache_dir) / producer.replace("/", "_") / f"{key}.parquet"
    if path.is_file():
        try:
            frame = pd.read_parquet(path)
            if len(frame) == len(texts) and frame.attrs.get("key", key) == key:
                return frame
            log.warning("%s: cache has %d rows for %d inputs: rebuilding", path, len(frame), len(texts))
        except Exception as error:  # a truncated or foreign file: rebuild it
            log.warning("%s: unreadable cache (%s): rebuilding", path, type(error).__name__)
    frame = compute()
    write_frame_atomic(path, frame)
    return frame
