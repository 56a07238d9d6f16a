"""The shared deep trainer: losses, frozen warm-up, resume after a kill, refused foreign checkpoints, torchrun."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from catalog_ml.core.metrics import smape
from catalog_ml.errors import CatalogError
from catalog_ml.nn.trainer import Trainer, TrainerSettings, price_loss

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toy_training import ToyDataset, ToyModel  # noqa: E402

SETTINGS = TrainerSettings(loss="smape", epochs=4, batch_size=16, frozen_epochs=1, head_lr=0.02, backbone_lr=0.005,
                           precision="fp32", patience=10)


class Interrupted(Exception):
    pass


def fit(work_dir, settings=SETTINGS, fingerprint="a", on_epoch_end=None):
    torch.manual_seed(123)
    train, stop = ToyDataset(96, seed=1), ToyDataset(32, seed=2)
    trainer = Trainer(ToyModel(), settings, work_dir, fingerprint, seed=3)
    result = trainer.fit(train, stop, np.expm1(stop.log_target), on_epoch_end=on_epoch_end)
    return trainer, result, trainer.predict_log(stop)


def test_smape_loss_matches_the_metric():
    log_pred, log_target = torch.log1p(torch.tensor([10.0, 50.0])), torch.log1p(torch.tensor([20.0, 50.0]))
    expected = smape(np.array([20.0, 50.0]), np.array([10.0, 50.0])) / 100
    assert float(price_loss("smape", log_pred, log_target)) == pytest.approx(expected, rel=1e-5)
    assert float(price_loss("l1", log_pred, log_target)) == pytest.approx(float(torch.log(torch.tensor(21 / 11))) / 2,
                                                                          rel=1e-5)


def test_training_learns_and_frozen_warm_up_keeps_the_towers(tmp_path):
    frozen_only = TrainerSettings(**{**SETTINGS.__dict__, "epochs": 1})
    model_before = ToyModel().tower[0].weight.clone()
    trainer, result, _ = fit(None, frozen_only)
    assert torch.equal(trainer.model.tower[0].weight, model_before)  # only the head moved
    _, result, prediction = fit(tmp_path / "w")
    stop = ToyDataset(32, seed=2)
    assert result.history[-1]["stop_score"] < result.history[0]["stop_score"]
    assert smape(np.expm1(stop.log_target), np.expm1(prediction)) == pytest.approx(result.best_smape, rel=1e-4)
    assert (tmp_path / "w" / "best.pt").is_file() and (tmp_path / "w" / "last.pt").is_file()


def test_cached_tower_outputs_run_the_towers_once_and_train_the_same_head():
    frozen = TrainerSettings(**{**SETTINGS.__dict__, "epochs": 3, "frozen_epochs": 3})
    tower_rows = []

    def counted(settings):
        torch.manual_seed(123)
        train, stop = ToyDataset(96, seed=1), ToyDataset(32, seed=2)
        trainer = Trainer(ToyModel(), settings, None, "a", seed=3)
        tower_rows.clear()
        trainer.model.tower.register_forward_hook(lambda module, inputs, output: tower_rows.append(len(output)))
        result = trainer.fit(train, stop, np.expm1(stop.log_target))
        return trainer, result, trainer.predict_log(stop), sum(tower_rows)

    _, plain, plain_prediction, plain_rows = counted(frozen)
    trainer, cached, cached_prediction, cached_rows = counted(TrainerSettings(**{**frozen.__dict__,
                                                                                 "cache_tower_outputs": True}))
    assert plain_rows == 3 * 96 + 3 * 32 + 32  # every epoch: the training rows and the early-stopping rows
    assert cached_rows == 96 + 32 + 32  # once each, and the final prediction of raw rows
    np.testing.assert_allclose(cached_prediction, plain_prediction, rtol=1e-5)
    assert [h["stop_score"] for h in cached.history] == pytest.approx([h["stop_score"] for h in plain.history],
                                                                      rel=1e-5)
    assert torch.equal(trainer.model.tower[0].weight, ToyModel().tower[0].weight)


def test_cached_tower_outputs_are_refused_where_they_would_not_be_exact():
    cached = TrainerSettings(**{**SETTINGS.__dict__, "cache_tower_outputs": True})  # 4 epochs, 1 frozen
    with pytest.raises(CatalogError, match="frozen_epochs 1 < epochs 4"):
        Trainer(ToyModel(), cached, None, "a", seed=3)
    no_protocol = torch.nn.Module()
    no_protocol.backbones = torch.nn.ModuleList()
    with pytest.raises(CatalogError, match="has no tower_outputs"):
        Trainer(no_protocol, TrainerSettings(**{**cached.__dict__, "frozen_epochs": 4}), None, "a", seed=3)


def test_a_killed_run_resumes_where_it_stopped_and_matches(tmp_path):
    _, uninterrupted, reference = fit(tmp_path / "straight")

    def kill_after_second_epoch(epoch):
        if epoch == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        fit(tmp_path / "killed", on_epoch_end=kill_after_second_epoch)
    _, resumed, prediction = fit(tmp_path / "killed")
    assert resumed.resumed_from_epoch == 1
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]
    np.testing.assert_allclose(prediction, reference, rtol=1e-6, atol=1e-6)


def test_checkpoints_of_another_config_are_refused_and_truncated_ones_restart(tmp_path, caplog):
    fit(tmp_path / "w")
    with pytest.raises(CatalogError, match="another configuration"):
        fit(tmp_path / "w", fingerprint="b")
    last = tmp_path / "w" / "last.pt"
    last.write_bytes(last.read_bytes()[:100])
    _, result, _ = fit(tmp_path / "w")
    assert result.resumed_from_epoch is None and "unreadable checkpoint" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_gloo_run_matches_a_single_process(tmp_path):
    worker = Path(__file__).resolve().parent / "ddp_worker.py"
    single, double = tmp_path / "single.json", tmp_path / "ddp.json"
    subprocess.run([sys.executable, str(worker), str(single)], check=True, timeout=300)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(worker),
                             str(double)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = json.loads(single.read_text()), json.loads(double.read_text())
    assert (one["world"], two["world"]) == (1, 2)
    np.testing.assert_allclose(two["pred"], one["pred"], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_torchrun_launches_a_whole_approach_run(demo_spec_path, tmp_path):
    runs = tmp_path / "runs"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
                             "-m", "catalog_ml.cli.main",
                             "run", "effnet_bert", "--dataset", str(demo_spec_path), "--runs-dir", str(runs),
                             "--folds", "0", "--set", "size=tiny", "--set", "epochs=1", "--set", "batch_size=16"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = (runs / "demo" / "effnet_bert" / "scores.csv").read_text()
    assert scores.count("\n0,") == 1  # fold 0 written once, by rank 0


def test_a_fully_frozen_deep_approach_trains_on_cached_tower_outputs(demo_template, tmp_path, caplog):
    from catalog_ml.core.config import build_config
    from catalog_ml.core.registry import get_approach
    from catalog_ml.core.runner import RunRequest, run_approach
    from catalog_ml.data.loading import load_dataset
    from catalog_ml.data.spec import load_spec

    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    approach = get_approach("effnet_bert")
    config = build_config(approach.Config, overrides=[*approach.tiny_settings, "frozen_epochs=2",
                                                      "cache_tower_outputs=true"])
    caplog.set_level("INFO", logger="catalog_ml.nn.trainer")
    result = run_approach(dataset, RunRequest(approach=approach, config=config, output_root=tmp_path, folds=(0,),
                                              cache_dir=tmp_path / "cache", progress=False, seed=5))
    oof = pd.read_parquet(result.paths.oof)
    assert len(oof) > 0 and np.isfinite(oof["pred"]).all() and (oof["pred"] > 0).all()
    assert sum("tower outputs cached" in message for message in caplog.messages) == 2  # training and stop rows
