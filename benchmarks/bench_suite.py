"""The real-data benchmark suite, side by side with AutoGluon-Tabular on the same folds, in one resumable run.

Per dataset (specs in benchmarks/specs; a dataset whose folder is absent is skipped with a message):
  1. frozen EfficientNet-Lite0 image embeddings, where the dataset has photos
  2. median_baseline and every CPU approach (each in its own process: wall time and peak memory are its own);
     where photos exist, mlp_fusion fused with the image embeddings (the deep path that is feasible on 2 CPU cores)
  3. the honest blend (``--method auto``, nested score)
  4. AutoGluon best_quality (log1p target, MAE; text and attribute columns), in its own environment, with our
     total time on the dataset as its time limit, under a hard timeout ("did not finish" is recorded)
Every finished step is recorded in WORK_DIR/suite_state.json and skipped by a re-run, so an interrupted suite goes
on where it stopped. ``--synthetic 75000,750000`` also times the core approaches on generated catalogues of those
sizes; ``SIZE:FOLDS`` runs only those folds there (``750000:0``: one fold of five, timed per fold).
Results: WORK_DIR/suite.csv, and with ``--assets``, assets/benchmark_suite.md and .png.
    python benchmarks/bench_suite.py [--datasets books,mercari5k] [--synthetic 75000,750000:0] [--no-peer] [--assets]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from autogluon_peer import EXCLUDED_MODELS, aligned_predictions, run_autogluon
from common import SPECS, machine_description, real_dataset, run_bounded

from catalog_ml.core.metrics import smape
from catalog_ml.data.demo_data import write_demo_dataset
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import Dataset, load_dataset
from catalog_ml.data.spec import load_spec

DATASETS = ("amazon_items1000", "flipkart1050", "mercari5k", "books", "bigbasket", "myntra_styles")
APPROACHES = ("median_baseline", "tfidf_ridge", "xgb_spacy", "lgbm_fusion", "knn_price", "mlp_fusion", "sparse_mlp")
SCALE_APPROACHES = ("median_baseline", "tfidf_ridge", "lgbm_fusion")
ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class PeerSettings:
    """Whether to start AutoGluon fits, its environment, and the model types it leaves out."""

    enabled: bool
    venv: Path
    exclude: tuple[str, ...] = EXCLUDED_MODELS


class Suite:
    """Runs steps as child processes and remembers finished ones in a state file."""

    def __init__(self, work: Path, step_timeout: float | None = None, run_options: tuple[str, ...] = ()) -> None:
        self.work = work
        self.step_timeout = step_timeout
        self.run_options = run_options  # passed to every ``catalog-ml run`` step (--jobs, --executor)
        self.state_path = work / "suite_state.json"
        self.state = json.loads(self.state_path.read_text()) if self.state_path.is_file() else {}

    def step(self, key: str, command: list[str]) -> dict:
        """Run ``command`` once (a recorded step is returned as recorded): seconds, peak MB, exit status. A step
        that overruns ``step_timeout`` is stopped and recorded as not finished; a failed one is retried next time."""
        if key in self.state:
            return self.state[key]
        env = {**os.environ, "CATALOG_ML_NO_PROGRESS": "1", "HF_HUB_OFFLINE": "1"}
        with tempfile.TemporaryFile("w+") as output:
            run = run_bounded(command, self.step_timeout, output, env)
            output.seek(0)
            text = output.read()
        record = {"seconds": run.seconds, "peak_mb": run.peak_mb, "ok": run.exit_code == 0}
        if run.overran:
            record.update(ok=False, status=f"did not finish in {self.step_timeout:.0f} s")
            print(f"  {key}: {record['status']}", file=sys.stderr, flush=True)
        elif not record["ok"]:
            print(f"  {key} failed:\n{text[-1500:]}", file=sys.stderr, flush=True)
            return record  # not recorded: a re-run tries again
        self.remember(key, record)
        return record

    def remember(self, key: str, record: dict) -> None:
        self.state[key] = record
        self.state_path.write_text(json.dumps(self.state, indent=1))


def catalog(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "catalog_ml.cli.main", *arguments]


def run_dataset(suite: Suite, name: str, dataset: Dataset, spec_path: Path, folds_file: Path,
                approaches: tuple[str, ...], peer: PeerSettings, only_folds: str = "") -> list[dict]:
    """Every approach, the honest blend (all folds only) and the peer on one dataset; one table row per step."""
    work, rows = suite.work, []
    common = ["--dataset", str(spec_path), "--folds-file", str(folds_file), "--runs-dir", str(work / "runs"),
              "--cache-dir", str(work / "cache")]
    n_folds = len(np.unique(load_folds(dataset).fold))
    folds_run = len(only_folds.split(",")) if only_folds else n_folds
    fold_arguments = ["--folds", only_folds] if only_folds else []
    runs: list[tuple[str, str, list[str]]] = [(a, a, []) for a in approaches]
    images = dataset.spec.image_path is not None and dataset.spec.image_path.is_dir()
    if images:
        table = work / name / "lite0.parquet"
        record = suite.step(f"{name}/embed", catalog("embed", "--dataset", str(spec_path), "--backbone",
                                                     "tf_efficientnet_lite0", "--weights", "packaged", "--cache-dir",
                                                     str(work / "image_cache"), "--out", str(table)))
        rows.append({"dataset": name, "step": "image embeddings (Lite0)", **record})
        runs.append(("mlp_fusion-images", "mlp_fusion", ["--tag", "images", "--set", f"image_embeddings={table}"]))
    for run_name, approach, extra in runs:
        record = suite.step(f"{name}/{run_name}", catalog("run", approach, *common, *fold_arguments, *extra,
                                                          *suite.run_options))
        score = _run_score(work / "runs" / name / run_name) if record["ok"] else float("nan")
        row = {"dataset": name, "step": run_name, "smape": score, "folds_run": folds_run, **record}
        if "status" in record:  # stopped: say how far it got
            finished = _finished_fold_scores(work / "runs" / name / run_name)
            row["status"] += (f" ({len(finished)} of {n_folds} folds done, mean {np.mean(finished):.2f})"
                              if finished else " (no fold done)")
        rows.append(row)
        print(f"  {run_name:20s} SMAPE {score:8.3f}  {record['seconds']:7.1f} s  {record['peak_mb']:6.0f} MB",
              flush=True)
    if folds_run < n_folds:  # a blend needs out-of-fold predictions for every row
        return rows
    run_names = ",".join(r for r, *_ in runs if (work / "runs" / name / r / "oof.parquet").is_file())
    blend_dir = work / "runs" / name / "_blend" / "auto"
    record = suite.step(f"{name}/blend", catalog("blend", *common[:6], "--runs", run_names, "--method", "auto",
                                                 "--trials", "100", "--out-dir", str(blend_dir), "--submission",
                                                 str(work / name / "blend_submission.csv")))
    fold_scores = pd.read_csv(blend_dir / "fold_scores.csv") if (blend_dir / "fold_scores.csv").is_file() else None
    blend_score = float(fold_scores["blend"].iloc[-1]) if fold_scores is not None else float("nan")
    rows.append({"dataset": name, "step": "honest blend", "smape": blend_score, **record})
    print(f"  {'honest blend':20s} SMAPE {blend_score:8.3f}  {record['seconds']:7.1f} s", flush=True)
    our_seconds = sum(r["seconds"] for r in rows)
    rows.append({"dataset": name, "step": "ours: total", "smape": blend_score, "seconds": our_seconds,
                 "peak_mb": max(r["peak_mb"] for r in rows), "ok": True})
    if peer.enabled or f"{name}/autogluon" in suite.state:  # a recorded peer result is shown even with --no-peer
        rows.append(_peer(suite, name, dataset, our_seconds, peer, fold_scores))
    return rows


def _finished_fold_scores(run_dir: Path) -> list[float]:
    """SMAPE of each fold a stopped run finished (its ``parts/fold_K.score.json`` files)."""
    return [float(json.loads(path.read_text())["smape"]) for path in sorted((run_dir / "parts").glob(
        "fold_*.score.json"))]


def _run_score(run_dir: Path) -> float:
    """The run's cross-validated score; for a partial run, the mean of its finished folds' scores."""
    summary = run_dir / "run.json"
    score = json.loads(summary.read_text()).get("score") if summary.is_file() else None
    if score is None:
        finished = _finished_fold_scores(run_dir)
        score = float(np.mean(finished)) if finished else None
    return float("nan") if score is None else score


def _peer(suite: Suite, name: str, dataset: Dataset, our_seconds: float, peer: PeerSettings,
          fold_scores: pd.DataFrame | None) -> dict:
    key = f"{name}/autogluon"
    if key not in suite.state:
        left_out = f", without {','.join(peer.exclude)}" if peer.exclude else ""
        print(f"  autogluon best_quality{left_out}, time limit {our_seconds:.0f} s ...", flush=True)
        result = run_autogluon(dataset, load_folds(dataset), our_seconds, suite.work / "autogluon" / name, peer.venv,
                               exclude=peer.exclude)
        record = {"status": result.status, "seconds": result.seconds, "folds": {}, "excluded": list(peer.exclude)}
        if result.predictions is not None:
            folds = load_folds(dataset)
            pred = aligned_predictions(result.predictions, dataset.train[dataset.spec.id_column].to_numpy(),
                                       ["pred"])[:, 0]
            y = dataset.target.to_numpy(dtype=float)
            for k in np.unique(folds.fold):
                rows = (folds.fold == k) & np.isfinite(pred)
                if rows.sum() == (folds.fold == k).sum():
                    record["folds"][str(k)] = smape(y[rows], pred[rows])
            done = np.isfinite(pred)
            record["smape"] = smape(y[done], pred[done]) if done.all() else float("nan")
        suite.remember(key, record)
    record = suite.state[key]
    if fold_scores is not None:
        for k, theirs in record["folds"].items():
            ours = float(fold_scores.loc[fold_scores["fold"].astype(str) == k, "blend"].iloc[0])
            print(f"    fold {k}: ours {ours:.3f}  autogluon {theirs:.3f}  ({100 * (ours / theirs - 1):+.1f}%)")
    print(f"  autogluon: {record['status']}, SMAPE {record.get('smape', float('nan')):.3f}, "
          f"{record['seconds']:.0f} s", flush=True)
    return {"dataset": name, "step": f"autogluon best_quality ({record['status']})",
            "smape": record.get("smape", float("nan")), "seconds": record["seconds"], "peak_mb": float("nan"),
            "ok": record["status"] == "ok", "autogluon_folds": json.dumps(record["folds"]),
            "autogluon_excluded": ",".join(record.get("excluded", []))}


def synthetic(suite: Suite, size: str) -> list[dict]:
    """Time and memory of the core approaches on a generated catalogue (no images); ``size`` is ROWS[:FOLDS]."""
    rows_text, _, only_folds = size.partition(":")
    rows = int(rows_text)
    name = f"synthetic_{rows}"
    folder = suite.work / name
    spec_path = folder / "dataset.yaml"
    if not spec_path.is_file():
        write_demo_dataset(folder, train_rows=rows, test_rows=max(rows // 10, 100), seed=7, images=False,
                           progress=False)
    spec = yaml.safe_load(spec_path.read_text())
    if spec["name"] != name:  # runs live under runs/<spec name>: one name per size
        spec_path.write_text(yaml.safe_dump({**spec, "name": name}, sort_keys=False))
    dataset = load_dataset(load_spec(spec_path))
    if not dataset.spec.folds_path.is_file():
        write_folds(make_folds(dataset, n_folds=5, seed=42, use_images=False), dataset.spec.folds_path, {})
    print(f"\n{name}: {len(dataset.train)} rows", flush=True)
    return run_dataset(suite, name, dataset, spec_path, dataset.spec.folds_path, SCALE_APPROACHES,
                       PeerSettings(False, Path()), only_folds.replace(";", ","))


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per real dataset: SMAPE of every step, our total time and peak memory, the peer, relative gaps."""
    real = table[~table["dataset"].str.startswith("synthetic")]
    wide = []
    for name, part in real.groupby("dataset", sort=False):
        by_step = part.set_index("step")
        row = {"dataset": name}
        for step in part["step"]:
            if step in ("ours: total", "image embeddings (Lite0)") or step.startswith("autogluon"):
                continue
            status = by_step.loc[step].get("status")
            if not isinstance(status, str) and by_step.loc[step].get("ok") in (False,):  # numpy or Python False
                status = "failed (see the suite's output)"
            row[step] = status if isinstance(status, str) else f"{by_step.loc[step, 'smape']:.2f}"
        total = by_step.loc["ours: total"] if "ours: total" in by_step.index else None
        blend = float(by_step.loc["honest blend", "smape"]) if "honest blend" in by_step.index else float("nan")
        if total is not None:
            row["our time s"] = f"{total['seconds']:.0f}"
            row["our peak MB"] = f"{total['peak_mb']:.0f}"
        peer = part[part["step"].str.startswith("autogluon")]
        if len(peer):
            theirs = float(peer["smape"].iloc[0])
            status = peer["step"].iloc[0].split("(", 1)[1].rstrip(")")
            row["AutoGluon"] = (f"{theirs:.2f} ({peer['seconds'].iloc[0]:.0f} s)" if np.isfinite(theirs)
                                else f"{status} ({peer['seconds'].iloc[0]:.0f} s)")
            row["blend vs AutoGluon"] = f"{100 * (blend / theirs - 1):+.1f}%" if np.isfinite(theirs) else "n/a"
        else:
            row["AutoGluon"] = "not run"
        ridge = float(by_step.loc["tfidf_ridge", "smape"]) if "tfidf_ridge" in by_step.index else float("nan")
        row["blend vs ridge"] = f"{100 * (blend / ridge - 1):+.1f}%"
        wide.append(row)
    return pd.DataFrame(wide).fillna("")


def peer_fold_table(table: pd.DataFrame, work: Path) -> pd.DataFrame:
    """Fold by fold: our honest blend, AutoGluon, and the relative difference (negative: ours is better)."""
    rows = []
    for _, peer in table[table["step"].str.startswith("autogluon")].iterrows():
        folds = json.loads(peer.get("autogluon_folds") or "{}")
        scores_path = work / "runs" / peer["dataset"] / "_blend" / "auto" / "fold_scores.csv"
        if not folds or not scores_path.is_file():
            continue
        ours = pd.read_csv(scores_path).astype({"fold": str}).set_index("fold")["blend"]
        for fold, theirs in folds.items():
            rows.append({"dataset": peer["dataset"], "fold": fold, "honest blend": round(float(ours[fold]), 3),
                         "AutoGluon": round(theirs, 3), "difference": f"{100 * (ours[fold] / theirs - 1):+.1f}%"})
    return pd.DataFrame(rows)


def _peer_description(table: pd.DataFrame) -> str:
    """How AutoGluon was run, with the model types it left out (recorded per dataset)."""
    if "autogluon_excluded" not in table.columns:
        return ""
    peer = table.dropna(subset=["autogluon_excluded"])
    left_out = sorted({excluded or "nothing" for excluded in peer["autogluon_excluded"]})
    return (f"AutoGluon: best_quality, log1p target with MAE, our total time on the dataset as its time limit (each "
            f"fold a fifth), model types left out: {'; '.join(left_out)}.\n\n") if len(peer) else ""


def write_assets(table: pd.DataFrame, command: str, work: Path, assets: Path = ASSETS) -> None:
    """assets/benchmark_suite.md (tables, date, machine, command) and assets/benchmark_suite.png (two charts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from catalog_ml.core.run_files import markdown_table

    header = (f"Measured {date.today().isoformat()} on {machine_description()} with:\n\n"
              f"    {command}\n\n5-fold SMAPE (lower is better); our time is the sum of every step's wall time.\n\n"
              f"{_peer_description(table)}")
    folds = peer_fold_table(table, work)
    scale = table[table["dataset"].str.startswith("synthetic")]
    scale = scale[scale["step"].isin(SCALE_APPROACHES)].assign(
        rows=lambda f: f["dataset"].str.removeprefix("synthetic_").astype(int),
        seconds_per_fold=lambda f: f["seconds"] / f["folds_run"])
    text = header + markdown_table(comparison_table(table)) + "\n"
    if len(folds):
        text += "\nFold by fold against AutoGluon (negative: ours is better):\n\n" + markdown_table(folds) + "\n"
    if len(scale):
        shown = scale[["rows", "step", "folds_run", "seconds", "seconds_per_fold", "peak_mb", "smape"]].round(1)
        text += "\nGenerated catalogues (no images):\n\n" + markdown_table(shown, "{:.1f}") + "\n"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "benchmark_suite.md").write_text(text)
    real = table[~table["dataset"].str.startswith("synthetic")]
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    pivot = real[real["step"].isin(["tfidf_ridge", "honest blend"]) | real["step"].str.startswith("autogluon")]
    pivot = pivot.assign(step=pivot["step"].str.replace(r" \(.*\)", "", regex=True)).pivot(
        index="dataset", columns="step", values="smape")
    if pivot.empty:
        axes[0].text(0.5, 0.5, "no real dataset in this run", ha="center", va="center")
    else:
        pivot.plot.bar(ax=axes[0], rot=20)
    axes[0].set_ylabel("5-fold SMAPE (lower is better)")
    axes[0].set_title("honest blend vs AutoGluon best_quality vs TF-IDF + Ridge")
    for approach, part in scale.groupby("step"):
        axes[1].loglog(part["rows"], part["seconds_per_fold"], marker="o", label=f"{approach}: seconds per fold")
        axes[1].loglog(part["rows"], part["peak_mb"], marker="s", linestyle="--", label=f"{approach}: peak MB")
    axes[1].set_xlabel("training rows (generated catalogue)")
    axes[1].set_title("time and memory against size")
    axes[1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(assets / "benchmark_suite.png", dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="spec names in benchmarks/specs ('' = none)")
    parser.add_argument("--approaches", default=",".join(APPROACHES))
    parser.add_argument("--synthetic", default="",
                        help="generated sizes to time, e.g. 75000,750000:0 (SIZE:FOLDS runs only those folds, "
                             "several joined by ';')")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_suite")
    parser.add_argument("--step-timeout", type=float, default=None,
                        help="seconds one of our steps may run; an overrun is stopped and recorded as not finished")
    parser.add_argument("--jobs", type=int, default=1,
                        help="each approach's folds side by side (catalog-ml run --jobs); the scores do not change")
    parser.add_argument("--executor", default="local", choices=["local", "ray"],
                        help="where those fold jobs run (catalog-ml run --executor)")
    parser.add_argument("--no-peer", dest="peer", action="store_false",
                        help="start no AutoGluon fit (results already recorded are still shown)")
    parser.add_argument("--autogluon-venv", type=Path, default=None,
                        help="AutoGluon's own environment (default: WORK_DIR/autogluon-venv; built when missing)")
    parser.add_argument("--autogluon-exclude", default=",".join(EXCLUDED_MODELS),
                        help="AutoGluon model types to leave out of best_quality (default %(default)s: they ignore "
                             "their time share on 2 cores; '' runs the full preset)")
    parser.add_argument("--assets", action="store_true", help="write benchmark_suite.md and .png into --assets-dir")
    parser.add_argument("--assets-dir", type=Path, default=ASSETS, help="where --assets writes (default: assets/)")
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    suite = Suite(args.work_dir, args.step_timeout, ("--jobs", str(args.jobs), "--executor", args.executor))
    peer = PeerSettings(args.peer, args.autogluon_venv or args.work_dir / "autogluon-venv",
                        tuple(filter(None, args.autogluon_exclude.split(","))))
    rows: list[dict] = []
    for name in filter(None, args.datasets.split(",")):
        dataset = real_dataset(name, args.work_dir)
        if dataset is None:
            continue
        print(f"\n{name}: {len(dataset.train)} rows", flush=True)
        rows += run_dataset(suite, name, dataset, SPECS / f"{name}.yaml", dataset.spec.folds_path,
                            tuple(args.approaches.split(",")), peer)
    for size in filter(None, args.synthetic.split(",")):
        rows += synthetic(suite, size)
    table = pd.DataFrame(rows)
    if table.empty:
        return 0
    table.to_csv(args.work_dir / "suite.csv", index=False)
    totals = table[table["step"] == "ours: total"].set_index("dataset")["seconds"]
    print(f"\nour total seconds per dataset: {totals.round(0).to_dict()}; suite total "
          f"{table[~table['step'].isin(['ours: total'])]['seconds'].sum():.0f} s")
    if args.assets:
        write_assets(table, "python benchmarks/bench_suite.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                     args.work_dir, args.assets_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
