"""Active-learning simulation: start from 10% of the labels, add batches chosen by committee disagreement with the
diversity step (``catalog_ml.blend.active_learning``) or at random, and compare SMAPE against labels used.

Fold 0 of the shared group-aware folds is the fixed evaluation set; the other folds are the pool. The model is a
sparse word + character TF-IDF Ridge on log1p price (the vocabulary is fitted on all text, which needs no labels);
the committee is four Ridge models on bootstrap resamples of the labelled rows.
    python benchmarks/bench_active_learning.py [--datasets myntra_styles,bigbasket] [--work-dir DIR]
Writes assets/active_learning_<dataset>.png and prints the label saving at equal SMAPE.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common import real_dataset  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from catalog_ml.blend.active_learning import disagreement, diverse_batch  # noqa: E402
from catalog_ml.core.metrics import smape  # noqa: E402
from catalog_ml.data.folds import load_folds  # noqa: E402
from catalog_ml.features.text import categorical_tokens, joined_text  # noqa: E402

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def features(dataset) -> sparse.csr_matrix:  # noqa: ANN001
    text = joined_text(dataset.train, dataset.spec, 1000)
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200_000, sublinear_tf=True,
                            dtype=np.float32).fit_transform(text)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_features=200_000,
                            sublinear_tf=True, dtype=np.float32).fit_transform(text.str.slice(0, 300))
    blocks = [words, chars]
    if dataset.spec.categorical_columns:
        tokens = categorical_tokens(dataset.train, dataset.spec)
        blocks.append(TfidfVectorizer(token_pattern=r"\S+", dtype=np.float32).fit_transform(tokens))
    return sparse.hstack(blocks).tocsr()


def fit_predict(x: sparse.csr_matrix, y: np.ndarray, rows: np.ndarray, target: np.ndarray) -> np.ndarray:
    model = Ridge(alpha=1.0, solver="sparse_cg", tol=1e-3).fit(x[rows], y[rows])
    return model.predict(x[target])


def simulate(x, y, pool, evaluation, strategy, start, batch, rounds, seed, vectors):  # noqa: ANN001
    rng = np.random.default_rng(seed)
    labelled = rng.choice(pool, size=start, replace=False)
    curve = []
    for round_ in range(rounds + 1):
        curve.append((len(labelled), smape(np.expm1(y[evaluation]), np.expm1(fit_predict(x, y, labelled,
                                                                                           evaluation)))))
        if round_ == rounds:
            break
        unlabelled = np.setdiff1d(pool, labelled)
        if strategy == "random":
            new = rng.choice(unlabelled, size=batch, replace=False)
        else:
            committee = np.column_stack([fit_predict(x, y, rng.choice(labelled, size=len(labelled)), unlabelled)
                                         for _ in range(4)])
            new = unlabelled[diverse_batch(disagreement(committee), vectors[unlabelled], batch)]
        labelled = np.concatenate([labelled, new])
    return curve


def labels_needed(curve: list[tuple[int, float]], score: float) -> float:
    """Labels at which a curve first reaches ``score`` (linear interpolation; inf if never)."""
    for (n0, s0), (n1, s1) in zip(curve, curve[1:], strict=False):
        if s1 <= score:
            return n1 if s0 == s1 else n0 + (n1 - n0) * (s0 - score) / (s0 - s1)
    return float("inf")


def label_savings(curves: dict[str, list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """For every active-learning point after the start: how many fewer labels than random sampling it needed to
    reach its SMAPE (in %), where the random curve reaches that SMAPE at all."""
    savings = []
    for labels, score in curves["active"][1:]:
        needed = labels_needed(curves["random"], score)
        if np.isfinite(needed):
            savings.append((labels, 100 * (1 - labels / needed)))
    return savings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="myntra_styles,bigbasket")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    ASSETS.mkdir(exist_ok=True)
    for name in args.datasets.split(","):
        dataset = real_dataset(name, args.work_dir)
        if dataset is None:
            continue
        started = time.perf_counter()
        x = features(dataset)
        y = np.log1p(dataset.target.to_numpy(dtype=float))
        fold = load_folds(dataset).fold
        evaluation, pool = np.flatnonzero(fold == 0), np.flatnonzero(fold != 0)
        start, batch = len(pool) // 10, len(pool) // 20
        vectors = normalize(x)
        curves = {s: simulate(x, y, pool, evaluation, s, start, batch, args.rounds, 0, vectors)
                  for s in ("random", "active")}
        savings = label_savings(curves)
        print(f"\n{name}: pool {len(pool)}, evaluation {len(evaluation)}, start {start}, batch {batch} "
              f"({time.perf_counter() - started:.0f} s)")
        print("| labels | random SMAPE | active SMAPE |\n|---|---|---|")
        for (n, r), (_, a) in zip(curves["random"], curves["active"], strict=True):
            print(f"| {n} | {r:.3f} | {a:.3f} |")
        print("label saving at equal SMAPE (random labels needed for each active point): "
              + ", ".join(f"{n}: {s:+.1f}%" for n, s in savings)
              + (f"; median {np.median([s for _, s in savings]):+.1f}%" if savings else ""))
        figure, axis = plt.subplots(figsize=(6, 4))
        for strategy, curve in curves.items():
            axis.plot(*zip(*curve, strict=True), marker="o", label=strategy)
        axis.set(xlabel="labelled rows", ylabel="SMAPE on held-out fold", title=f"{name}: active vs random")
        axis.legend()
        figure.tight_layout()
        figure.savefig(ASSETS / f"active_learning_{name}.png", dpi=120)
        plt.close(figure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
