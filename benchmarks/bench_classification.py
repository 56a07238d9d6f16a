"""Category classification on real data: text-only, image-only and multimodal approaches and their honest blend.

Tasks (derived tables are written to the work folder, never into the repository):
  flipkart_category  ../shared/data/flipkart1050: the 7 top-level categories of product_category_tree (the tree
                     itself is left out of the text: it is the label)
  myntra_master      ../shared/data/myntra_styles rows that have a photo: masterCategory
  myntra_article     the same rows: articleType, classes with at least 50 rows
Image inputs are frozen EfficientNet-Lite0 embeddings (packaged weights), made with ``catalog-ml embed`` unless a
table is given with --image-table. The peer, AutoGluon-Tabular best_quality (text and attribute columns), runs in
its own environment on the same folds with our total time on the task as its limit (``autogluon_peer.py``).
Prints and writes a table of accuracy, macro-F1, log-loss and seconds (fit + predict over the 5 folds, as
recorded by each run; the AutoGluon row: its wall time).
    python benchmarks/bench_classification.py [--tasks flipkart_category,myntra_master] [--work-dir DIR]
        [--image-table myntra=PATH.parquet] [--runs median_baseline,tfidf_ridge,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from autogluon_peer import aligned_predictions, run_autogluon
from common import SHARED_DATA

from catalog_ml.blend.nested import evaluate_blend
from catalog_ml.cli.main import main as cli_main
from catalog_ml.core.config import build_config
from catalog_ml.core.metrics import classification_scores
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_reader import load_run_set
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.core.task import task_of
from catalog_ml.data.classes import PROBA_PREFIX, class_codes
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import Dataset, load_dataset
from catalog_ml.data.spec import load_spec

# run name -> (approach, settings, modality)
RUNS = {
    "median_baseline": ("median_baseline", [], "none (class prior)"),
    "tfidf_logreg": ("tfidf_ridge", [], "text"),
    "linear_svm": ("classical_baselines", ["model=linear_svm"], "text"),
    "naive_bayes": ("classical_baselines", ["model=naive_bayes"], "text"),
    "random_forest": ("classical_baselines", ["model=random_forest", "trees=200"], "text"),
    "knn_tfidf": ("knn_price", ["spaces=tfidf"], "text"),
    "xgb_text": ("xgb_spacy", ["max_rounds=500", "learning_rate=0.1"], "text"),
    "lgbm_text": ("lgbm_fusion", ["max_rounds=300", "learning_rate=0.1"], "text"),
    "mlp_text": ("mlp_fusion", ["inputs=text"], "text"),
    "mlp_image": ("mlp_fusion", ["inputs=image", "IMAGES"], "image"),
    "mlp_fused": ("mlp_fusion", ["inputs=fused", "IMAGES"], "text + image"),
    "lgbm_fused": ("lgbm_fusion", ["max_rounds=300", "learning_rate=0.1", "IMAGES"], "text + image"),
}
TASKS = ("flipkart_category", "myntra_master", "myntra_article")
# multiclass GBMs grow one tree per class and round: LightGBM on sparse TF-IDF took 200-420 s for 1,050 rows x 7
# classes, so beyond this many rows x classes it is left out (xgb_spacy, on ~130 dense features, beyond 20 classes)
SLOW_RUNS = {"lgbm_text": 50_000, "lgbm_fused": 50_000, "xgb_text": 20 * 10_000}


def derive_task(task: str, work: Path) -> Path | None:
    """Write the task's table and spec into ``work/task``; None (with a message) when the source is absent."""
    folder = work / task
    folder.mkdir(parents=True, exist_ok=True)
    if task == "flipkart_category":
        source = SHARED_DATA / "flipkart1050"
        if not (source / "products.csv").is_file():
            print(f"skipped {task}: {source} is absent", file=sys.stderr)
            return None
        frame = pd.read_csv(source / "products.csv", dtype={"uniq_id": str})
        frame["category"] = frame["product_category_tree"].str.strip('["]').str.split(">>").str[0].str.strip()
        frame = frame.drop(columns=["product_category_tree", "product_url"])
        spec = {"id_column": "uniq_id", "text_columns": ["product_name", "description", "product_specifications"],
                "categorical_columns": ["brand"], "image_column": "image", "image_naming": "url_basename"}
    else:
        source = SHARED_DATA / "myntra_styles"
        if not (source / "styles.csv.gz").is_file():
            print(f"skipped {task}: {source} is absent", file=sys.stderr)
            return None
        frame = pd.read_csv(source / "styles.csv.gz", dtype={"id": str})
        frame = frame[[(source / "images" / f"{i}.jpg").is_file() for i in frame["id"]]]
        label = "masterCategory" if task == "myntra_master" else "articleType"
        if task == "myntra_article":
            counts = frame[label].value_counts()
            frame = frame[frame[label].isin(counts.index[counts >= 50])]
        frame = frame.rename(columns={label: "category"})
        frame = frame.drop(columns=[c for c in ("masterCategory", "subCategory", "articleType", "displayCategories",
                                                "articleAttributes") if c in frame.columns])
        spec = {"id_column": "id", "text_columns": ["productDisplayName", "description"],
                "categorical_columns": ["brandName", "gender", "baseColour", "season", "usage"],
                "numeric_columns": ["year", "price"], "allow_empty_text": True, "image_naming": "template",
                "image_template": "{id}.jpg"}
    frame.to_csv(folder / "train.csv", index=False)
    spec.update(name=task, task="classification", metric="macro_f1", target="category", root=".",
                train_file="train.csv", test_file=None, image_dir=str(source / "images"), folds_file="folds.csv")
    (folder / "dataset.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder / "dataset.yaml"


def image_table(task: str, spec_path: Path, given: dict[str, str], work: Path) -> Path:
    for prefix, path in given.items():
        if task.startswith(prefix):
            return Path(path)
    out = work / task / "lite0.parquet"
    if not out.is_file():
        cli_main(["embed", "--dataset", str(spec_path), "--backbone", "tf_efficientnet_lite0", "--weights",
                  "packaged", "--cache-dir", str(work / "image_cache"), "--out", str(out)])
    return out


def run_task(task: str, spec_path: Path, runs: list[str], images: Path, work: Path, cache: Path) -> list[dict]:
    spec = load_spec(spec_path)
    dataset = load_dataset(spec)
    if not spec.folds_path.is_file():
        write_folds(make_folds(dataset, n_folds=5, seed=42, use_images=False), spec.folds_path, {"seed": 42})
    print(f"\n{task}: {len(dataset.train)} rows, {len(dataset.classes)} classes", flush=True)
    rows = []
    size = len(dataset.classes) * len(dataset.train)
    skipped = [r for r in runs if size > SLOW_RUNS.get(r, size)]
    if skipped:
        print(f"  left out at {len(dataset.train)} rows x {len(dataset.classes)} classes (one tree per class and "
              f"round): {skipped}")
    runs = [r for r in runs if r not in skipped]
    for name in runs:
        approach_name, settings, modality = RUNS[name]
        settings = [f"image_embeddings={images}" if s == "IMAGES" else s for s in settings]
        approach = get_approach(approach_name)
        result = run_approach(dataset, RunRequest(approach=approach, config=build_config(approach.Config, None,
                                                                                           settings),
                                                  output_root=work / "runs", tag=name, progress=False,
                                                  cache_dir=cache))
        overall = result.scores.set_index("fold").loc["all"]
        seconds = float(overall["fit_seconds"] + overall["predict_seconds"])  # recorded, so a resumed run keeps it
        rows.append({"task": task, "run": name, "modality": modality, "accuracy": overall["accuracy"],
                     "macro_f1": overall["macro_f1"], "log_loss": overall["log_loss"], "seconds": seconds})
        print(f"  {name:16s} {modality:18s} acc {overall['accuracy']:.4f}  macro-F1 {overall['macro_f1']:.4f}  "
              f"log-loss {overall['log_loss']:.4f}  {seconds:6.1f} s", flush=True)
    return rows + blend_rows(task, dataset, work, runs)


def peer_rows(task: str, dataset: Dataset, work: Path, time_limit: float, venv: Path) -> list[dict]:
    """AutoGluon best_quality on the same folds with our total time on this task as its limit; fold by fold
    against our blend of every run."""
    folds = load_folds(dataset)
    print(f"  autogluon best_quality, time limit {time_limit:.0f} s ...", flush=True)
    result = run_autogluon(dataset, folds, time_limit, work / "autogluon" / task, venv)
    if result.predictions is None:
        print(f"  autogluon: {result.status}", flush=True)
        return [{"task": task, "run": f"autogluon ({result.status})", "modality": "text + attributes",
                 "accuracy": float("nan"), "macro_f1": float("nan"), "log_loss": float("nan"),
                 "seconds": result.seconds}]
    peer_classes = [c.removeprefix(PROBA_PREFIX) for c in result.predictions.columns if c.startswith(PROBA_PREFIX)]
    proba = np.zeros((len(dataset.train), len(dataset.classes)))
    columns = [f"{PROBA_PREFIX}{c}" for c in peer_classes]
    ids = dataset.train[dataset.spec.id_column].astype(str).to_numpy()
    done = np.isin(ids, result.predictions["id"].astype(str).to_numpy())
    # a fold whose training rows lack a class has no column for it: probability 0, as in our own outputs
    proba[:, class_codes(np.array(peer_classes), dataset.classes)] = np.nan_to_num(
        aligned_predictions(result.predictions, ids, columns), nan=0.0)
    y = dataset.target.to_numpy(dtype=str)
    ours = np.load(work / "runs" / dataset.spec.name / "blend_every_run.npy")
    print(f"  autogluon: {result.status}, {result.seconds:.0f} s; fold by fold (macro-F1):")
    for k in np.unique(folds.fold[done]):
        rows = (folds.fold == k) & done
        theirs = classification_scores(y[rows], proba[rows], dataset.classes)["macro_f1"]
        mine = classification_scores(y[rows], ours[rows], dataset.classes)["macro_f1"]
        print(f"    fold {k}: ours {mine:.4f}  autogluon {theirs:.4f}  ({100 * (mine / theirs - 1):+.1f}%)")
    scores = classification_scores(y[done], proba[done], dataset.classes)
    label = "autogluon best_quality" + ("" if done.all() else f" ({int(done.sum())} rows: {result.status})")
    return [{"task": task, "run": label, "modality": "text + attributes",
             **{k: scores[k] for k in ("accuracy", "macro_f1", "log_loss")}, "seconds": result.seconds}]


def blend_rows(task: str, dataset: Dataset, work: Path, runs: list[str]) -> list[dict]:
    folds = load_folds(dataset)
    groups = {"blend: text runs": [r for r in runs if RUNS[r][2] == "text"],
              "blend: every run": [r for r in runs if r != "median_baseline"]}
    rows = []
    for label, members in groups.items():
        if len(members) < 2:
            continue
        cached = work / "runs" / dataset.spec.name / f"{label.replace(': ', '_').replace(' ', '_')}.json"
        if cached.is_file():  # blends of many classes take minutes: a re-run reads the recorded row
            rows.append(json.loads(cached.read_text()))
            continue
        run_set = load_run_set(dataset, folds, [work / "runs" / dataset.spec.name / f"{RUNS[r][0]}-{r}"
                                                for r in members])
        started = time.perf_counter()
        evaluation = evaluate_blend("auto", run_set.oof, run_set.y, run_set.fold, run_set.names,
                                    {"objective": "log_loss", "random_state": 0, "n_trials": 100}, task_of(dataset))
        scores = evaluation.nested_scores
        if label == "blend: every run":
            np.save(work / "runs" / dataset.spec.name / "blend_every_run.npy", evaluation.nested_oof)
        rows.append({"task": task, "run": label, "modality": "text" if "text" in label else "text + image",
                     **{k: scores[k] for k in ("accuracy", "macro_f1", "log_loss")},
                     "seconds": time.perf_counter() - started})
        cached.write_text(json.dumps(rows[-1]))
        print(f"  {label:16s} nested ({evaluation.final_method}): acc {scores['accuracy']:.4f}  macro-F1 "
              f"{scores['macro_f1']:.4f}  log-loss {scores['log_loss']:.4f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench_cls")
    parser.add_argument("--image-table", action="append", default=[], metavar="PREFIX=PATH",
                        help="an existing image embedding table for tasks starting with PREFIX (e.g. myntra=...)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="feature caches (MiniLM vectors, spaCy brands); default WORK_DIR/cache")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip AutoGluon")
    parser.add_argument("--autogluon-venv", type=Path, default=None,
                        help="AutoGluon's own environment (default: WORK_DIR/autogluon-venv; built when missing)")
    args = parser.parse_args(argv)
    args.autogluon_venv = args.autogluon_venv or args.work_dir / "autogluon-venv"
    given = dict(item.split("=", 1) for item in args.image_table)
    rows = []
    for task in args.tasks.split(","):
        spec_path = derive_task(task, args.work_dir)
        if spec_path is None:
            continue
        runs = args.runs.split(",")
        images = image_table(task, spec_path, given, args.work_dir) if any("IMAGES" in RUNS[r][1] for r in runs) \
            else Path()
        task_rows = run_task(task, spec_path, runs, images, args.work_dir, args.cache_dir or args.work_dir / "cache")
        rows += task_rows
        if args.peer:
            dataset = load_dataset(load_spec(spec_path))
            our_seconds = sum(r["seconds"] for r in task_rows)
            rows += peer_rows(task, dataset, args.work_dir, our_seconds, args.autogluon_venv)
    table = pd.DataFrame(rows)
    if table.empty:
        return 0
    table.to_csv(args.work_dir / "classification.csv", index=False)
    print("\n| task | run | inputs | accuracy | macro-F1 | log-loss | wall s |\n|---|---|---|---|---|---|---|")
    for r in table.itertuples():
        print(f"| {r.task} | {r.run} | {r.modality} | {r.accuracy:.4f} | {r.macro_f1:.4f} | {r.log_loss:.4f} | "
              f"{r.seconds:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
