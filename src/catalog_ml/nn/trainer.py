"""One trainer for the deep approaches: log1p target with a SMAPE-in-price-space loss (or L1/Huber), AdamW with
separate backbone and head learning rates, frozen-backbone warm-up, mixed precision, gradient accumulation and
clipping, a warm-up + cosine schedule, early stopping on SMAPE, best-checkpoint keeping, and resume from the last
epoch checkpoint (model, optimizer, scheduler, scaler and RNG states): a killed fold continues, it does not restart.

Under ``torchrun`` it trains with DistributedDataParallel (gloo on CPU, nccl on GPU); every rank sees the same
sample order as a single process would (``DistributedSampler`` on one seeded permutation), so results match.

Models follow a small protocol: ``model(batch) -> (B,) log1p prices``, ``model.backbones`` (the pretrained
towers, trained at ``backbone_lr``) and optionally ``model.init_output_bias(mean)``. A model that can train on
cached tower outputs (``cache_tower_outputs``) also has ``model.tower_outputs(batch)``: the batch with the towers'
outputs in place of their inputs, which ``model(...)`` takes as well.
"""

from __future__ import annotations

import logging
import math
import os
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from catalog_ml.atomic import ensure_writable_dir
from catalog_ml.core.metrics import smape
from catalog_ml.errors import CatalogError
from catalog_ml.nn.trainer_settings import TrainerSettings

log = logging.getLogger(__name__)

MAX_LOG_PRICE = 20.0


@dataclass
class TrainResult:
    """What training did: epochs run, the best early-stopping SMAPE and its epoch, whether it resumed."""

    epochs_run: int
    best_epoch: int
    best_smape: float
    resumed_from_epoch: int | None
    history: list[dict[str, float]]


def world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside ``torchrun``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def init_distributed_from_env() -> bool:
    """Join the process group when started by ``torchrun`` (WORLD_SIZE > 1); True when distributed."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def default_device() -> torch.device:
    """The process's device (``--device``; by default this rank's GPU when there is one)."""
    from catalog_ml.nn.device import torch_device

    return torch_device()


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (None = plain fp32)."""
    if precision == "fp32":
        return None
    if device.type == "cuda":
        if precision == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if precision == "bf16" else torch.float16
    from catalog_ml.nn.precision import cpu_has_native_bf16

    if precision == "fp16":
        raise CatalogError("precision fp16 needs a GPU; use bf16 or auto on CPU")
    return torch.bfloat16 if precision == "bf16" or cpu_has_native_bf16() else None


def price_loss(kind: str, log_pred: torch.Tensor, log_target: torch.Tensor) -> torch.Tensor:
    """The training loss on log1p predictions; ``smape`` compares prices (expm1), as the competition scores.
    ``cross_entropy``: ``log_pred`` are class logits and ``log_target`` class codes."""
    if kind == "cross_entropy":
        return nn.functional.cross_entropy(log_pred.float(), log_target.long())
    log_pred = log_pred.float()
    if kind == "l1":
        return torch.mean(torch.abs(log_pred - log_target))
    if kind == "huber":
        return nn.functional.smooth_l1_loss(log_pred, log_target, beta=0.5)
    price = torch.expm1(log_pred.clamp(0.0, MAX_LOG_PRICE))
    target = torch.expm1(log_target)
    return torch.mean(2.0 * torch.abs(price - target) / (price.abs() + target.abs() + 1e-6))


class Trainer:
    """Fits one model on one fold. ``work_dir`` holds ``last.pt`` (resume) and ``best.pt``; ``fingerprint`` names
    the configuration, and a work folder written under another fingerprint is refused."""

    def __init__(self, model: nn.Module, settings: TrainerSettings, work_dir: Path | None, fingerprint: str,
                 seed: int, progress: bool = False) -> None:
        self.settings = settings
        self.work_dir = ensure_writable_dir(Path(work_dir)) if work_dir is not None else None
        self.fingerprint = fingerprint
        self.seed = seed
        self.progress = progress
        init_distributed_from_env()  # under torchrun: join the group, so that ranks train one model together
        self.device = default_device()
        self.model = model.to(self.device)
        self.rank, self.world_size = world()
        if settings.batch_size % self.world_size:
            raise CatalogError(f"batch_size {settings.batch_size} must divide by the {self.world_size} processes")
        self.dtype = autocast_dtype(settings.precision, self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.dtype == torch.float16)
        if settings.cache_tower_outputs:
            _check_tower_cache(self.model, settings, self.world_size)

    # -- public -------------------------------------------------------------------------------------------------
    def fit(self, train_set: Dataset, stop_set: Dataset, stop_target: np.ndarray,
            on_epoch_end: Callable[[int], None] | None = None,
            stop_score: Callable[[np.ndarray], float] | None = None) -> TrainResult:
        """Train on ``train_set``; early-stop on the SMAPE of ``stop_set`` (prices ``stop_target``), or on
        ``stop_score(outputs of stop_set)`` (lower is better) when given."""
        s = self.settings
        if s.cache_tower_outputs:
            train_set, stop_set = self._tower_outputs(train_set), self._tower_outputs(stop_set)
        per_rank = s.batch_size // self.world_size
        sampler = DistributedSampler(train_set, num_replicas=self.world_size, rank=self.rank, shuffle=True,
                                     seed=self.seed, drop_last=False)
        loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler, num_workers=s.num_workers,
                            drop_last=len(train_set) > per_rank * self.world_size)
        steps_per_epoch = max(1, math.ceil(len(loader) / s.accumulation_steps))
        optimizer = self._optimizer()
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._schedule(steps_per_epoch * s.epochs))
        network = self._wrapped()
        start_epoch, best, best_epoch, waited, history = 0, math.inf, -1, 0, []
        state = self._read("last.pt")
        resumed = None
        if state is not None:
            self.model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            _set_rng_state(state["rng"])
            start_epoch, best, best_epoch = state["epoch"] + 1, state["best"], state["best_epoch"]
            waited, history, resumed = state["waited"], state["history"], state["epoch"]
            log.info("resuming after epoch %d (best score %.4f at epoch %d)", resumed, best, best_epoch)
            if state.get("finished"):
                start_epoch = s.epochs
        elif hasattr(self.model, "init_output_bias"):
            log_target = getattr(train_set, "log_target", None)
            log_target = np.log1p(stop_target) if log_target is None else log_target
            self.model.init_output_bias(float(np.mean(log_target)))

        for epoch in range(start_epoch, s.epochs):
            frozen = epoch < s.frozen_epochs
            self._set_backbone_lr(optimizer, scheduler, frozen)
            sampler.set_epoch(epoch)
            if hasattr(train_set, "epoch"):
                train_set.epoch = epoch
            train_loss = self._train_epoch(network, loader, optimizer, scheduler, frozen, epoch)
            outputs = self.predict_log(stop_set)
            score = (stop_score(outputs) if stop_score is not None
                     else smape(stop_target, np.expm1(np.clip(outputs, 0, MAX_LOG_PRICE))))
            history.append({"epoch": epoch, "train_loss": train_loss, "stop_score": score, "frozen": frozen})
            log.info("epoch %d%s: train loss %.4f, early-stopping score %.4f", epoch, " (towers frozen)" * frozen,
                     train_loss, score)
            if score < best - 1e-6:
                best, best_epoch, waited = score, epoch, 0
                self._save("best.pt", {"model": self.model.state_dict(), "epoch": epoch, "best": best})
            else:
                waited += 1
            finished = waited >= s.patience and (not frozen or s.cache_tower_outputs)  # a warm-up runs whole
            self._save("last.pt", {
                "model": self.model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": self.scaler.state_dict(), "rng": _rng_state(),
                "epoch": epoch, "best": best, "best_epoch": best_epoch, "waited": waited, "history": history,
                "finished": finished or epoch == s.epochs - 1})
            if on_epoch_end is not None:
                on_epoch_end(epoch)
            if finished:
                log.info("early stop after epoch %d: best score %.4f at epoch %d", epoch, best, best_epoch)
                break
        self._restore_best()
        return TrainResult(len(history), best_epoch, best, resumed, history)

    @torch.no_grad()
    def predict_log(self, dataset: Dataset, batch_size: int | None = None) -> np.ndarray:
        """log1p-price predictions of ``dataset`` in its order (every process predicts every row)."""
        self.model.eval()
        loader = DataLoader(dataset, batch_size=batch_size or self.settings.batch_size * 2, shuffle=False,
                            num_workers=self.settings.num_workers)
        out = []
        for batch in loader:
            with self._autocast():
                out.append(self.model(self._to_device(batch)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    # -- internals ----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def _tower_outputs(self, dataset: Dataset) -> TowerOutputs:
        """``dataset`` with the towers' outputs in place of their inputs, computed once (eval mode, no augmentation:
        a dataset's ``train`` flag is off meanwhile)."""
        augmenting = getattr(dataset, "train", False)
        if augmenting:
            dataset.train = False
        try:
            self.model.eval()
            loader = DataLoader(dataset, batch_size=self.settings.batch_size * 2, shuffle=False,
                                num_workers=self.settings.num_workers)
            columns: dict[str, list[torch.Tensor]] = {}
            for batch in tqdm(loader, desc="tower outputs", disable=not self.progress or self.rank != 0, leave=False):
                batch = self._to_device(batch)
                with self._autocast():
                    outputs = self.model.tower_outputs(batch)
                for name, value in outputs.items():
                    columns.setdefault(name, []).append((value.float() if value.is_floating_point() else value).cpu())
        finally:
            if augmenting:
                dataset.train = True
        log.info("tower outputs cached for %d rows", len(dataset))
        return TowerOutputs({name: torch.cat(parts) for name, parts in columns.items()},
                            getattr(dataset, "log_target", None))

    def _train_epoch(self, network: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                     scheduler: Any, frozen: bool, epoch: int) -> float:
        s = self.settings
        self.model.train()
        if frozen:
            for tower in self.model.backbones:
                tower.eval()  # frozen towers keep their batch-norm statistics too
        # One process: frozen towers run under no_grad, so the warm-up costs a forward pass through them, not a
        # backward pass too. DistributedDataParallel needs a gradient for every trained parameter in every step,
        # so there the towers keep theirs (at learning rate 0).
        self.model.towers_frozen = frozen and self.world_size == 1
        total, count = 0.0, 0
        optimizer.zero_grad(set_to_none=True)
        batches = tqdm(loader, desc=f"epoch {epoch}", disable=not self.progress or self.rank != 0, leave=False)
        for i, batch in enumerate(batches):
            batch = self._to_device(batch)
            with self._autocast():
                prediction = network(batch)
            loss = price_loss(s.loss, prediction, batch["target"])
            self.scaler.scale(loss / s.accumulation_steps).backward()
            total, count = total + float(loss.detach()), count + 1
            if (i + 1) % s.accumulation_steps == 0 or i + 1 == len(loader):
                if s.clip_grad_norm:
                    self.scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(self.model.parameters(), s.clip_grad_norm)
                self.scaler.step(optimizer)
                self.scaler.update()
                optimizer.zero_grad(set_to_none=True)
                scheduler.step()
        return total / max(count, 1)

    def _optimizer(self) -> torch.optim.Optimizer:
        tower_ids = {id(p) for tower in self.model.backbones for p in tower.parameters()}
        towers = [p for p in self.model.parameters() if id(p) in tower_ids]
        head = [p for p in self.model.parameters() if id(p) not in tower_ids]
        groups = [{"params": head, "lr": self.settings.head_lr, "name": "head"}]
        if towers:
            groups.append({"params": towers, "lr": self.settings.backbone_lr, "name": "backbone"})
        return torch.optim.AdamW(groups, weight_decay=self.settings.weight_decay)

    def _set_backbone_lr(self, optimizer: torch.optim.Optimizer, scheduler: Any, frozen: bool) -> None:
        # A frozen tower keeps requires_grad (DDP needs a fixed set of trained parameters) but gets no update:
        # its base learning rate is 0, and AdamW's decay is scaled by the learning rate too.
        for i, group in enumerate(optimizer.param_groups):
            if group["name"] == "backbone":
                scheduler.base_lrs[i] = 0.0 if frozen else self.settings.backbone_lr
                group["lr"] = scheduler.base_lrs[i] * scheduler.lr_lambdas[i](scheduler.last_epoch)

    def _schedule(self, total_steps: int) -> Callable[[int], float]:
        warmup = max(1, int(total_steps * self.settings.warmup_share))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            if self.settings.scheduler == "constant":
                return 1.0
            progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

        return factor

    def _wrapped(self) -> nn.Module:
        if self.world_size == 1:
            return self.model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(self.model, device_ids=device_ids)

    def _autocast(self) -> Any:
        return torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None)

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    def _save(self, name: str, payload: dict[str, Any]) -> None:
        if self.work_dir is not None and self.rank == 0:
            payload = {"fingerprint": self.fingerprint, **payload}
            temporary = self.work_dir / f".{name}.tmp"
            torch.save(payload, temporary)
            os.replace(temporary, self.work_dir / name)
        if self.world_size > 1:
            torch.distributed.barrier()

    def _read(self, name: str) -> dict[str, Any] | None:
        path = None if self.work_dir is None else self.work_dir / name
        if path is None or not path.is_file():
            return None
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:  # a checkpoint cut short by a crash: start the fold again, loudly
            log.warning("%s: unreadable checkpoint (%s): training this fold from the start", path,
                        type(error).__name__)
            return None
        if state.get("fingerprint") != self.fingerprint:
            raise CatalogError(f"{path}: checkpoint written by another configuration (fingerprint "
                               f"{state.get('fingerprint')} vs {self.fingerprint}); refusing to resume from it: "
                               "delete the folder or run with --overwrite")
        return state

    def _restore_best(self) -> None:
        best = self._read("best.pt")
        if best is not None:
            self.model.load_state_dict(best["model"])
        self.model.eval()


class TowerOutputs(Dataset):
    """Rows of precomputed tensors (the towers' outputs and the other batch entries), as the model takes them."""

    def __init__(self, columns: dict[str, torch.Tensor], log_target: np.ndarray | None) -> None:
        self.columns, self.log_target = columns, log_target
        self.rows = len(next(iter(columns.values()))) if columns else 0

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {name: column[i] for name, column in self.columns.items()}


def _check_tower_cache(model: nn.Module, settings: TrainerSettings, world_size: int) -> None:
    """Cached tower outputs are exact only when the towers never train, and the model must know how to use them."""
    if settings.frozen_epochs < settings.epochs:
        raise CatalogError(f"cache_tower_outputs needs towers frozen for every epoch (frozen_epochs "
                           f"{settings.frozen_epochs} < epochs {settings.epochs}): set frozen_epochs={settings.epochs} "
                           "or turn the cache off")
    if not hasattr(model, "tower_outputs"):
        raise CatalogError(f"cache_tower_outputs: {type(model).__name__} has no tower_outputs(batch)")
    if world_size > 1:  # DistributedDataParallel wants a gradient for every tower parameter in every step
        raise CatalogError("cache_tower_outputs trains the head in one process: run without torchrun")


def _rng_state() -> dict[str, Any]:
    numpy_state = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "numpy_keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
             "numpy_pos": int(numpy_state[2]), "python": repr(random.getstate())}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import ast

    torch.set_rng_state(state["torch"].cpu())
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), state["numpy_pos"], 0, 0.0))
    random.setstate(ast.literal_eval(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def settings_fingerprint(*parts: Any) -> str:
    """A short stable hash of settings (dataclasses or plain data) for checkpoint compatibility checks."""
    import hashlib
    import json

    def plain(value: Any) -> Any:
        return asdict(value) if hasattr(value, "__dataclass_fields__") else value

    text = json.dumps([plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
