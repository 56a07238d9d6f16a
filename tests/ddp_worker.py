"""Train the toy model (under torchrun or alone) and write the stop-set predictions to the given JSON file."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from toy_training import ToyDataset, ToyModel  # noqa: E402

from catalog_ml.nn.trainer import Trainer, TrainerSettings, init_distributed_from_env, world  # noqa: E402

if __name__ == "__main__":
    init_distributed_from_env()
    torch.set_num_threads(1)
    train, stop = ToyDataset(64, seed=1), ToyDataset(32, seed=2)
    settings = TrainerSettings(loss="l1", epochs=3, batch_size=8, frozen_epochs=1, head_lr=0.05, backbone_lr=0.01,
                               precision="fp32", patience=5)
    trainer = Trainer(ToyModel(), settings, None, "toy", seed=7)
    trainer.fit(train, stop, np.expm1(stop.log_target))
    prediction = trainer.predict_log(stop)
    rank, size = world()
    if rank == 0:
        Path(sys.argv[1]).write_text(json.dumps({"world": size, "pred": prediction.tolist()}))
    if size > 1:
        # both ranks reach teardown together: a rank that tore down while the other was still writing its file made
        # gloo abort the other ("terminate called without an active exception", once in ~25 CI runs)
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
