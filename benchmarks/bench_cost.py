"""Where an approach's time goes and what a cheaper setting costs in score: each approach with its defaults and with
each candidate variant, on the same folds of a real dataset, on warm feature caches (a first pass with the defaults
fills them: MiniLM vectors and spaCy brands are cached per text, so every variant pays only its own model work).

Per variant: 5-fold SMAPE, the wall time of the run, and the change against the defaults fold by fold (mean
difference ± its standard error over the folds; negative: the variant scores better).

    python benchmarks/bench_cost.py [--datasets amazon_items1000,bigbasket] [--approaches lgbm_fusion,xgb_spacy]
        [--variants "lgbm_fusion:max_depth=16;xgb_spacy:early_stopping_rounds=50"] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from bench_approaches import run_one
from common import real_dataset

from catalog_ml.core.run_files import markdown_table
from catalog_ml.core.uncertainty import fold_standard_error

DATASETS = ("amazon_items1000", "bigbasket")
# candidate savings: each a setting that removes work (smaller models, shorter patience, fewer passes)
VARIANTS = {
    "lgbm_fusion": ("max_depth=16", "early_stopping_rounds=50"),
    "xgb_spacy": ("early_stopping_rounds=50", "learning_rate=0.1", "svd_components=32"),
    "sparse_mlp": ("models=2", "epochs=4"),
    "knn_price": ("gbm_iterations=150", "spaces=tfidf"),
}


def fold_scores(work: Path, tag: str, name: str, approach: str) -> pd.Series:
    """SMAPE per fold of one run (fold -> score)."""
    table = pd.read_csv(work / tag / "runs" / name / approach / "scores.csv").astype({"fold": str})
    return table[table["fold"] != "all"].set_index("fold")["smape"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--approaches", default=",".join(VARIANTS))
    parser.add_argument("--variants", default="",
                        help="APPROACH:KEY=VALUE[,KEY=VALUE] joined by ';' (default: the candidates in VARIANTS)")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_cost")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip the first pass (the work folder's cache is already warm, e.g. a suite's)")
    args = parser.parse_args(argv)
    variants: dict[str, list[str]] = {}
    for item in filter(None, args.variants.split(";")):
        approach, _, settings = item.partition(":")
        variants.setdefault(approach, []).append(settings)
    rows = []
    for name in args.datasets.split(","):
        if real_dataset(name, args.work_dir) is None:
            continue
        for approach in args.approaches.split(","):
            if args.warm_up:
                run_one(name, approach, args.work_dir, [], "warm-up")  # fills the feature caches
            candidates = [("defaults", [])] + [(v, v.split(",")) for v in variants.get(approach) or
                                               VARIANTS.get(approach, ())]
            reference = None
            for label, settings in candidates:
                tag = f"{approach}-{label}".replace("=", "_").replace(",", "+")
                result = run_one(name, approach, args.work_dir, settings, tag)
                scores = fold_scores(args.work_dir, tag, name, approach)
                reference = scores if reference is None else reference
                change = (scores - reference).to_numpy()
                rows.append({"dataset": name, "approach": approach, "variant": label,
                             "SMAPE": round(result["smape"], 3), "± SE": round(fold_standard_error(scores), 3),
                             "wall s": round(result["seconds"], 1), "peak MB": round(result["peak_mb"]),
                             "change": f"{np.mean(change):+.3f} ± {fold_standard_error(change):.3f}"
                             if label != "defaults" else ""})
                print(f"{name:18s} {approach:12s} {label:28s} SMAPE {result['smape']:7.3f}  "
                      f"{result['seconds']:7.1f} s  {rows[-1]['change']}", flush=True)
    if rows:
        table = pd.DataFrame(rows)
        print("\n" + markdown_table(table))
        table.to_csv(args.work_dir / "cost.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
