"""5-fold CV SMAPE, wall time and peak memory of every CPU approach against plain TF-IDF + Ridge (scikit-learn's
defaults, ``plain_tfidf_ridge``) and against the tuned ``tfidf_ridge``, on the real datasets in ../shared/data
(skipped when absent).

Each approach runs in its own process (``catalog-ml run``), so peak memory is that run's own; the feature caches
(MiniLM sentence vectors, spaCy brands) live in the work folder, so ``--pass warm`` measures a second run.
    python benchmarks/bench_approaches.py [--datasets amazon_items1000,books] [--approaches tfidf_ridge,knn_price]
        [--work-dir DIR] [--pass cold|warm] [--set-image myntra_styles=PATH.parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
from common import SPECS, real_dataset, run_bounded

DATASETS = ("amazon_items1000", "books", "mercari5k", "bigbasket", "myntra_styles")
APPROACHES = ("plain_tfidf_ridge", "tfidf_ridge", "xgb_spacy", "lgbm_fusion", "knn_price", "mlp_fusion", "sparse_mlp")
BASELINES = {"plain": "plain_tfidf_ridge", "tuned": "tfidf_ridge"}


def run_one(name: str, approach: str, work: Path, settings: list[str], tag: str) -> dict[str, object]:
    """One approach run in a child process: its SMAPE, wall seconds and peak resident memory."""
    command = [sys.executable, "-m", "catalog_ml.cli.main", "run", approach, "--dataset", str(SPECS / f"{name}.yaml"),
               "--folds-file", str(work / name / "folds.csv"), "--runs-dir", str(work / tag / "runs"),
               "--cache-dir", str(work / "cache"), "--overwrite"]
    for setting in settings:
        command += ["--set", setting]
    env = {**os.environ, "CATALOG_ML_NO_PROGRESS": "1", "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryFile("w+") as output:
        run = run_bounded(command, None, output, env)
        output.seek(0)
        text = output.read()
    if run.exit_code != 0:
        print(f"  {approach} failed on {name}:\n{text[-2000:]}", file=sys.stderr)
        return {"smape": float("nan"), "seconds": run.seconds, "peak_mb": run.peak_mb}
    summary = json.loads((work / tag / "runs" / name / approach / "run.json").read_text())
    return {"smape": summary["score"], "seconds": run.seconds, "peak_mb": run.peak_mb}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--approaches", default=",".join(APPROACHES))
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench")
    parser.add_argument("--pass", dest="pass_name", default="cold", help="label of this pass (cold, warm)")
    parser.add_argument("--set-image", action="append", default=[], metavar="DATASET=PATH",
                        help="an image embedding table for lgbm_fusion and mlp_fusion on DATASET")
    args = parser.parse_args(argv)
    images = dict(item.split("=", 1) for item in args.set_image)
    rows = []
    for name in args.datasets.split(","):
        dataset = real_dataset(name, args.work_dir)
        if dataset is None:
            continue
        for approach in args.approaches.split(","):
            settings = [f"image_embeddings={images[name]}"] if name in images and approach in (
                "lgbm_fusion", "mlp_fusion") else []
            result = run_one(name, approach, args.work_dir, settings, args.pass_name)
            rows.append({"dataset": name, "rows": len(dataset.train), "approach": approach, **result})
            print(f"{name:18s} {approach:12s} SMAPE {result['smape']:7.3f}  {result['seconds']:7.1f} s  "
                  f"{result['peak_mb']:7.0f} MB", flush=True)
    table = pd.DataFrame(rows)
    if table.empty:
        return 0
    for label, baseline_name in BASELINES.items():
        baseline = table[table["approach"] == baseline_name].set_index("dataset")["smape"]
        table[f"vs_{label}_pct"] = [100 * (s / baseline.get(d, float("nan")) - 1) for d, s in
                                    zip(table["dataset"], table["smape"], strict=True)]
    print("\n| dataset | rows | approach | SMAPE | vs plain Ridge | vs tfidf_ridge | wall s | peak MB |\n"
          "|---|---|---|---|---|---|---|---|")
    for r in table.itertuples():
        print(f"| {r.dataset} | {r.rows} | {r.approach} | {r.smape:.3f} | {r.vs_plain_pct:+.1f}% | "
              f"{r.vs_tuned_pct:+.1f}% | {r.seconds:.0f} | {r.peak_mb:.0f} |")
    totals = table.groupby("dataset")["seconds"].sum().round(0)
    print("\ntotal wall seconds per dataset:", totals.to_dict())
    table.to_csv(args.work_dir / f"approaches_{args.pass_name}.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
