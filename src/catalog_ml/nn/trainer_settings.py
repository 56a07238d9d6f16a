"""The deep trainer's settings, importable without torch (approach listings and ``--help`` stay fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class TrainerSettings:
    """How a network is trained (every deep approach exposes these as its own settings)."""

    loss: Literal["smape", "l1", "huber", "cross_entropy"] = field(default="smape", metadata={
        "help": "smape (in price space, on expm1 of the prediction), l1 or huber on log1p price; classification "
                "always trains with cross_entropy"})
    epochs: int = field(default=8, metadata={"help": "epochs at most"})
    batch_size: int = field(default=32, metadata={"help": "rows per optimizer step (split across processes)"})
    accumulation_steps: int = field(default=1, metadata={"help": "batches accumulated per optimizer step"})
    head_lr: float = field(default=1e-3, metadata={"help": "learning rate of the fusion head"})
    backbone_lr: float = field(default=2e-5, metadata={"help": "learning rate of the pretrained towers"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    frozen_epochs: int = field(default=1, metadata={"help": "warm-up epochs with the towers frozen (head only)"})
    cache_tower_outputs: bool = field(default=False, metadata={
        "help": "fully frozen runs only (frozen_epochs >= epochs): the towers run once per row (training photos "
                "without augmentation) and the head trains on their outputs, so an epoch costs the head only"})
    warmup_share: float = field(default=0.05, metadata={"help": "share of steps with a linear learning-rate ramp"})
    scheduler: Literal["cosine", "constant"] = field(default="cosine", metadata={"help": "after the ramp"})
    clip_grad_norm: float = field(default=1.0, metadata={"help": "gradient norm clip (0 = none)"})
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(default="auto", metadata={
        "help": "auto: bf16 on GPUs that have it (else fp16 with a scaler), bf16 on CPUs with native bf16, else fp32"})
    patience: int = field(default=2, metadata={"help": "epochs without a better early-stopping SMAPE before stop"})
    num_workers: int = field(default=0, metadata={"help": "data-loader worker processes"})
