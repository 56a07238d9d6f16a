"""An on-disk store of vectors keyed by text (or any string key), shared by the sentence and image embeddings."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.atomic import write_frame_atomic

log = logging.getLogger(__name__)


class TextVectorStore:
    """Vectors keyed by the SHA-256 of each text, in 16 parquet shards written atomically.

    A shard that cannot be read (truncated by a crash, another format) is logged and rebuilt, never reused.
    """

    def __init__(self, folder: Path, dim: int | None = None) -> None:
        self.folder = folder
        self.dim = dim

    def lookup(self, texts: list[str], encode) -> np.ndarray:  # noqa: ANN001 (Callable[[list[str]], np.ndarray])
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        shards = {key[:1] for key in keys}
        known = {}
        for shard in shards:
            known.update(self._read(shard))
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            first_text = dict(zip(keys, texts, strict=True))
            vectors = encode([first_text[k] for k in missing])
            fresh = dict(zip(missing, vectors, strict=True))
            known.update(fresh)
            for shard in {k[:1] for k in missing}:
                stored = self._read(shard)
                stored.update({k: v for k, v in fresh.items() if k[:1] == shard})
                frame = pd.DataFrame(np.stack(list(stored.values())), index=list(stored.keys()))
                frame.columns = [f"e{i}" for i in range(frame.shape[1])]
                write_frame_atomic(self.folder / f"{shard}.parquet", frame.reset_index(names="key"))
        return np.stack([known[k] for k in keys]).astype(np.float32)

    def _read(self, shard: str) -> dict[str, np.ndarray]:
        path = self.folder / f"{shard}.parquet"
        if not path.is_file():
            return {}
        try:
            frame = pd.read_parquet(path)
            if self.dim is not None and frame.shape[1] - 1 != self.dim:
                log.warning("%s: cached vectors have %d values, this model gives %d: rebuilding", path,
                            frame.shape[1] - 1, self.dim)
                return {}
            return dict(zip(frame["key"], frame.drop(columns="key").to_numpy(dtype=np.float32), strict=True))
        except Exception as error:  # truncated or foreign file: rebuild it
            log.warning("%s: unreadable embedding cache shard (%s): rebuilding", path, type(error).__name__)
            return {}
