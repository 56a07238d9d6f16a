"""EfficientNet-B4 image tower + BERT text tower, fused head, trained end to end on log1p price (the competition's
winning recipe). Real weights come from the hub (online) or local paths; ``--set size=tiny`` is a CPU smoke test."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog_ml.cli.run import approach_main
from catalog_ml.core.registry import register_approach
from catalog_ml.nn.backbones import image_backbone, text_encoder
from catalog_ml.nn.deep_approach import DeepFusionApproach, DeepSettings

TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


@dataclass(frozen=True)
class EffnetBertConfig(DeepSettings):
    image_backbone: str = field(default="efficientnet_b4", metadata={"help": "timm image model"})
    image_weights: str = field(default="hub", metadata={
        "help": "hub, packaged (tf_efficientnet_lite0), none, or a local .safetensors/.pth file"})
    text_model: str = field(default="bert-base-uncased", metadata={
        "help": "Hugging Face hub name or local folder of a BERT-family encoder (minilm = the packaged MiniLM)"})


@register_approach
class EffnetBert(DeepFusionApproach):
    """timm CNN + BERT mean-pooled tokens + quantities -> fusion MLP; towers fine-tuned after a frozen warm-up."""

    name = "effnet_bert"
    Config = EffnetBertConfig

    def build_towers(self):  # noqa: ANN201
        from catalog_ml.nn.multimodal import BertTextTower, TimmImageTower

        c = self.config
        if c.size == "tiny":
            image = image_backbone("test_efficientnet", "none")
            text = text_encoder("", tiny=TINY_BERT)
            preprocessing = image.preprocessing.__class__(64, image.preprocessing.mean, image.preprocessing.std)
        else:
            image = image_backbone(c.image_backbone, c.image_weights)
            text = text_encoder(c.text_model)
            preprocessing = image.preprocessing
        return (TimmImageTower(image.model, image.dim), BertTextTower(text.model, text.tokenizer, text.dim,
                                                                      c.max_tokens), preprocessing)


if __name__ == "__main__":
    raise SystemExit(approach_main("effnet_bert"))
