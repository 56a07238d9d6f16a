"""Exact cosine neighbour search: catalog_ml.nn.neighbours.CosineNeighbours against scikit-learn's brute
force, on the knn_price character TF-IDF of a real dataset's fold 0 (training rows as the base, fold-0 rows as
queries) and on random dense 384-d vectors of the same shape (the MiniLM space).

    python benchmarks/bench_neighbours.py [--dataset myntra_styles] [--work-dir DIR] [--neighbours 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import real_dataset
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors

from catalog_ml.data.folds import load_folds
from catalog_ml.features.text import joined_text
from catalog_ml.nn.neighbours import CosineNeighbours


def compare(space: str, base, queries, k: int) -> None:  # noqa: ANN001 (sparse or dense matrices)
    """Time both searches and print how far their answers agree."""
    started = time.perf_counter()
    distance, expected = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute", n_jobs=2).fit(
        base).kneighbors(queries)
    sklearn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    similarity, index = CosineNeighbours(base, k).kneighbors(queries)
    ours_seconds = time.perf_counter() - started
    gap = np.abs(similarity - np.clip(1.0 - distance, 0.0, 1.0)).max()
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(expected, index, strict=True)])
    print(f"{space:>10} base {base.shape[0]:>7} x {base.shape[1]:<7} queries {queries.shape[0]:>6}: "
          f"scikit-learn {sklearn_seconds:6.1f} s, CosineNeighbours {ours_seconds:6.1f} s "
          f"({sklearn_seconds / ours_seconds:.1f}x); largest similarity gap {gap:.1e}, "
          f"same neighbours {overlap:.1%} (the rest: ties)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="myntra_styles", help="spec name under benchmarks/specs")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench",
                        help="where the fold file is written when the dataset has none")
    parser.add_argument("--neighbours", type=int, default=30, help="neighbours per query (knn_price asks for 30)")
    args = parser.parse_args()
    dataset = real_dataset(args.dataset, args.work_dir)
    if dataset is None:
        return 0
    fold = load_folds(dataset).fold
    text = joined_text(dataset.train, dataset.spec, 300)
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), max_df=0.1, max_features=100_000,
                                 sublinear_tf=True, dtype=np.float32)
    base = vectoriser.fit_transform(text[fold != 0])
    compare("char tfidf", base, vectoriser.transform(text[fold == 0]), args.neighbours)
    rng = np.random.default_rng(0)
    compare("dense 384", rng.normal(size=(base.shape[0], 384)).astype(np.float32),
            rng.normal(size=(int((fold == 0).sum()), 384)).astype(np.float32), args.neighbours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
