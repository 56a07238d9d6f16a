"""The ``embed`` command: image and text tables, missing/unreadable counts, the per-image cache."""

import json

import pandas as pd

from catalog_ml.cli.main import main
from catalog_ml.features.embedding_table import read_embedding_table


def test_image_embeddings_table_counts_and_cache(demo_dir, tmp_path, capsys):
    spec = demo_dir / "dataset.yaml"
    images = sorted((demo_dir / "images").glob("*.jpg"))
    images[0].write_bytes(images[0].read_bytes()[:200])  # one truncated photo
    out = tmp_path / "img.parquet"
    args = ["embed", "--dataset", str(spec), "--backbone", "test_efficientnet", "--weights", "none",
            "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]
    assert main(args) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    train, test = pd.read_csv(demo_dir / "train.csv"), pd.read_csv(demo_dir / "test.csv")
    rows = len(train) + len(test)
    assert report["rows"] == rows and report["images_unreadable"] == 1
    assert report["images_missing"] > 0  # the demo leaves out about 4% of images
    assert report["images_read"] + report["images_missing"] + report["images_unreadable"] == rows
    table = read_embedding_table(out)
    assert len(table) == report["rows_embedded"] == report["images_read"] and table.shape[1] == 256
    first = table.copy()
    assert main(args) == 0  # second run: every vector from the cache, same table and counts
    assert read_embedding_table(out).equals(first)
    assert json.loads(out.with_suffix(".json").read_text())["images_unreadable"] == 1
    assert "unreadable" in capsys.readouterr().out


def test_missing_image_folder_is_a_clear_error(demo_dir, tmp_path, capsys):
    import shutil

    shutil.rmtree(demo_dir / "images")
    code = main(["embed", "--dataset", str(demo_dir / "dataset.yaml"), "--backbone", "test_efficientnet",
                 "--weights", "none", "--out", str(tmp_path / "x.parquet")])
    assert code == 2 and "image folder does not exist" in capsys.readouterr().err


def test_text_embeddings_with_tiny_clip(demo_dir, tmp_path):
    out = tmp_path / "txt.parquet"
    assert main(["embed", "--dataset", str(demo_dir / "dataset.yaml"), "--what", "text", "--backbone", "clip:tiny",
                 "--weights", "none", "--limit", "50", "--out", str(out)]) == 0
    table = read_embedding_table(out)
    assert table.shape == (50, 32) and table.columns[0] == "txt_0"
