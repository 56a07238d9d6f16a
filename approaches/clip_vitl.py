"""OpenAI CLIP ViT-L/14 image and text towers, regression head on the concatenated embeddings, fine-tuned on log1p
price. Weights: the open_clip tag ``openai`` (online or cached) or a local checkpoint; ``--set size=tiny`` is a CPU
smoke test with a small CLIP of the same code path."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog_ml.cli.run import approach_main
from catalog_ml.core.registry import register_approach
from catalog_ml.nn.backbones import TINY_CLIP, clip_model
from catalog_ml.nn.deep_approach import DeepFusionApproach, DeepSettings


@dataclass(frozen=True)
class ClipVitlConfig(DeepSettings):
    clip_model: str = field(default="ViT-L-14", metadata={"help": "open_clip model name"})
    pretrained: str = field(default="openai", metadata={
        "help": "open_clip pretrained tag, a local checkpoint file, or none"})
    backbone_lr: float = field(default=1e-5, metadata={"help": "learning rate of the CLIP towers"})
    max_tokens: int = field(default=77, metadata={"help": "CLIP's context length (fixed by the model)"})


class ClipFusionApproach(DeepFusionApproach):
    """CLIP image tower + CLIP text tower + quantities -> fusion MLP."""

    def build_towers(self):  # noqa: ANN201
        from catalog_ml.nn.multimodal import ClipImageTower, ClipTextTower

        c = self.config
        clip = clip_model(TINY_CLIP, "") if c.size == "tiny" else clip_model(c.clip_model, c.pretrained)
        image_dim = int(clip.model.visual.output_dim)
        return (ClipImageTower(clip.model, image_dim), ClipTextTower(clip.model, clip.tokenizer, clip.dim),
                clip.preprocessing)


@register_approach
class ClipVitl(ClipFusionApproach):
    """OpenAI CLIP ViT-L/14 towers + quantities -> fusion MLP."""

    name = "clip_vitl"
    Config = ClipVitlConfig


if __name__ == "__main__":
    raise SystemExit(approach_main("clip_vitl"))
