"""Deep-approach figures on this machine.

1. Tiny-configuration training step time (effnet_bert and CLIP code paths, batch 16, CPU).
2. EfficientNet-Lite0 frozen image embeddings of the myntra_styles photos: images per second (a cold cache).
3. lgbm_fusion with vs without those image embeddings: 5-fold CV SMAPE on the rows that have a photo.
    python benchmarks/bench_deep.py [--work-dir DIR] [--skip-embed] [--skip-gain]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import SPECS, real_dataset

from catalog_ml.core.metrics import smape


def tiny_step_times(steps: int = 20, batch: int = 16) -> dict[str, float]:
    """Milliseconds per optimizer step (forward, backward, AdamW) of the tiny fusion networks."""
    import torch

    from approaches.effnet_bert import TINY_BERT
    from catalog_ml.nn.backbones import TINY_CLIP, clip_model, image_backbone, text_encoder
    from catalog_ml.nn.multimodal import BertTextTower, ClipImageTower, ClipTextTower, FusionRegressor, TimmImageTower

    image, text = image_backbone("test_efficientnet", "none"), text_encoder("", tiny=TINY_BERT)
    clip = clip_model(TINY_CLIP, "")
    networks = {
        "effnet_bert tiny (64 px, 24 tokens)": (FusionRegressor(
            TimmImageTower(image.model, image.dim), BertTextTower(text.model, text.tokenizer, text.dim, 24), 4,
            hidden=32), 64),
        "clip tiny (32 px, 32 tokens)": (FusionRegressor(
            ClipImageTower(clip.model, int(clip.model.visual.output_dim)),
            ClipTextTower(clip.model, clip.tokenizer, clip.dim), 4, hidden=32), 32),
    }
    results = {}
    for label, (model, size) in networks.items():
        tokens = model.text_tower.tokenize(["organic green tea 100 bags"] * batch)
        data = {"image": torch.randn(batch, 3, size, size), "has_image": torch.ones(batch),
                "quantities": torch.randn(batch, 4), **{f"tok_{k}": v for k, v in tokens.items()}}
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        target = torch.full((batch,), 3.0)
        for step in range(steps + 3):
            if step == 3:
                started = time.perf_counter()
            optimizer.zero_grad()
            loss = torch.mean(torch.abs(model(data) - target))
            loss.backward()
            optimizer.step()
        results[label] = 1000 * (time.perf_counter() - started) / steps
    return results


def embed_myntra(work: Path) -> dict[str, object]:
    """Cold-cache EfficientNet-Lite0 embeddings of the myntra photos via the ``embed`` command."""
    cache = work / "embed_cache_cold"
    shutil.rmtree(cache, ignore_errors=True)
    out = work / "myntra_lite0.parquet"
    subprocess.run([sys.executable, "-m", "catalog_ml.cli.main", "embed",
                    "--dataset", str(SPECS / "myntra_styles.yaml"),
                    "--cache-dir", str(cache), "--out", str(out)], check=True)
    report = json.loads(out.with_suffix(".json").read_text())
    report["images_per_second"] = round(report["images_read"] / report["seconds"], 1)
    return report


def image_gain(work: Path, table: Path) -> dict[str, float]:
    """lgbm_fusion with and without the image table; SMAPE on all rows and on the rows with a photo."""
    dataset = real_dataset("myntra_styles", work)
    with_photo = set(pd.read_parquet(table, columns=["id"])["id"].astype(str))
    scores = {}
    for tag, settings in (("text", []), ("image", ["--set", f"image_embeddings={table}"])):
        subprocess.run([sys.executable, "-m", "catalog_ml.cli.main", "run", "lgbm_fusion", "--dataset",
                        str(SPECS / "myntra_styles.yaml"), "--folds-file", str(work / "myntra_styles" / "folds.csv"),
                        "--runs-dir", str(work / "deep_runs"), "--tag", tag, "--cache-dir", str(work / "cache"),
                        *settings], check=True)
        oof = pd.read_parquet(work / "deep_runs" / "myntra_styles" / f"lgbm_fusion-{tag}" / "oof.parquet")
        truth = dataset.train.set_index("id").loc[oof["id"], "price"].to_numpy()
        photo = oof["id"].astype(str).isin(with_photo).to_numpy()
        scores[f"{tag}: all rows"] = smape(truth, oof["pred"].to_numpy())
        scores[f"{tag}: rows with a photo ({int(photo.sum())})"] = smape(truth[photo], oof["pred"].to_numpy()[photo])
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "catalog_ml_bench")
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--skip-gain", action="store_true")
    parser.add_argument("--table", type=Path, default=None, help="an existing myntra image table (skips embedding)")
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    for label, ms in tiny_step_times().items():
        print(f"{label}: {ms:.0f} ms per training step (batch 16)")
    if real_dataset("myntra_styles", args.work_dir) is None:
        return 0
    table = args.table
    if not args.skip_embed and table is None:
        report = embed_myntra(args.work_dir)
        table = args.work_dir / "myntra_lite0.parquet"
        print(f"EfficientNet-Lite0 on {report['images_read']} myntra photos: {report['seconds']} s, "
              f"{report['images_per_second']} images/s ({report['images_missing']} rows without a photo, "
              f"{report['images_unreadable']} unreadable)")
    if not args.skip_gain and table is not None:
        for label, value in image_gain(args.work_dir, table).items():
            print(f"lgbm_fusion {label}: SMAPE {value:.3f}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
