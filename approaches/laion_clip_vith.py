"""LAION CLIP ViT-H/14 (laion2b_s32b_b79k) image and text towers with a regression head, fine-tuned on log1p price.
Same code as clip_vitl with the larger model; ``--set size=tiny`` is a CPU smoke test."""

from __future__ import annotations

from dataclasses import dataclass, field

from approaches.clip_vitl import ClipFusionApproach, ClipVitlConfig
from catalog_ml.cli.run import approach_main
from catalog_ml.core.registry import register_approach


@dataclass(frozen=True)
class LaionClipVithConfig(ClipVitlConfig):
    clip_model: str = field(default="ViT-H-14", metadata={"help": "open_clip model name"})
    pretrained: str = field(default="laion2b_s32b_b79k", metadata={
        "help": "open_clip pretrained tag, a local checkpoint file, or none"})
    batch_size: int = field(default=16, metadata={"help": "rows per optimizer step (split across processes)"})
    accumulation_steps: int = field(default=2, metadata={"help": "batches accumulated per optimizer step"})


@register_approach
class LaionClipVith(ClipFusionApproach):
    """LAION CLIP ViT-H/14 towers + quantities -> fusion MLP."""

    name = "laion_clip_vith"
    Config = LaionClipVithConfig


if __name__ == "__main__":
    raise SystemExit(approach_main("laion_clip_vith"))
