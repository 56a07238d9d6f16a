"""Image + text fusion networks for price regression: the towers (timm CNN, Hugging Face BERT, open_clip CLIP),
the product dataset (photos, tokens, quantities) and the fusion head with an explicit missing-image policy."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from catalog_ml.data.image_io import ImagePreprocessing, ImageTally, augment, image_array, read_image

MissingImagePolicy = Literal["learned", "zero"]


class TimmImageTower(nn.Module):
    """A timm/torchvision feature extractor: images -> (B, dim)."""

    def __init__(self, model: nn.Module, dim: int) -> None:
        super().__init__()
        self.model, self.dim = model, dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)


class BertTextTower(nn.Module):
    """A Hugging Face encoder, mean-pooled over real tokens: tokens -> (B, dim)."""

    def __init__(self, model: nn.Module, tokenizer: Any, dim: int, max_tokens: int) -> None:
        super().__init__()
        if getattr(model, "pooler", None) is not None:
            model.pooler = None  # mean pooling replaces it; unused parameters would stall DistributedDataParallel
        self.model, self.tokenizer, self.dim, self.max_tokens = model, tokenizer, dim, max_tokens

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_tokens,
                               return_tensors="pt")
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class ClipImageTower(nn.Module):
    def __init__(self, clip: nn.Module, dim: int) -> None:
        super().__init__()
        self.clip, self.dim = clip.visual, dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.clip(images)


class ClipTextTower(nn.Module):
    """The CLIP text transformer (its own tokenizer and context length): tokens -> (B, dim)."""

    def __init__(self, clip: nn.Module, tokenizer: Any, dim: int) -> None:
        super().__init__()
        self.tokenizer, self.dim = tokenizer, dim
        # keep only the text parts: the image tower is its own module, and DDP wants every parameter used
        self.token_embedding, self.positional_embedding = clip.token_embedding, clip.positional_embedding
        self.transformer, self.ln_final = clip.transformer, clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer("attn_mask", clip.attn_mask, persistent=False)
        self.text_pool_type = getattr(clip, "text_pool_type", "argmax")
        self.text_eos_id = getattr(clip, "text_eos_id", None)
        self._encode = type(clip).encode_text

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return {"input_ids": self.tokenizer(texts)}

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self._encode(self, input_ids)


class FusionRegressor(nn.Module):
    """[image features | text features | quantities | no-image flag] -> MLP -> log1p price.

    Missing images: ``learned`` replaces the image features of such rows by a trained "no image" vector; ``zero``
    gives zeros. Both add the flag, so the head knows.
    """

    def __init__(self, image_tower: nn.Module | None, text_tower: nn.Module | None, n_quantities: int,
                 hidden: int = 512, dropout: float = 0.2, missing_image: MissingImagePolicy = "learned",
                 outputs: int = 1) -> None:
        super().__init__()
        self.outputs = outputs
        self.image_tower, self.text_tower = image_tower, text_tower
        self.backbones = nn.ModuleList([t for t in (image_tower, text_tower) if t is not None])
        self.towers_frozen = False  # the trainer's warm-up: towers run without gradients (no backward through them)
        self.missing_image = missing_image
        image_dim = image_tower.dim if image_tower is not None else 0
        self.no_image = nn.Parameter(torch.zeros(image_dim)) if missing_image == "learned" and image_dim else None
        width = image_dim + (text_tower.dim if text_tower is not None else 0) + n_quantities + 1
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, outputs))

    def init_output_bias(self, mean: float) -> None:
        if self.outputs != 1:
            return  # class logits start unbiased
        with torch.no_grad():
            self.head[-1].bias.fill_(mean)

    def tower_outputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The batch with the towers' features in place of their inputs (photos, tokens): what ``forward`` takes
        when the trainer caches them (towers that never train)."""
        kept = {k: v for k, v in batch.items() if k != "image" and not k.startswith("tok_")}
        return {**kept, **self.tower_features(batch)}

    def tower_features(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The towers' features of a batch of their inputs."""
        outputs = {}
        if self.image_tower is not None:
            outputs["image_features"] = self.image_tower(batch["image"]).float()
        if self.text_tower is not None:
            tokens = {k.removeprefix("tok_"): v for k, v in batch.items() if k.startswith("tok_")}
            outputs["text_features"] = self.text_tower(**tokens).float()
        return outputs

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """log1p prices (or class logits) of a batch of tower inputs, or of cached tower outputs."""
        has_image = batch["has_image"].float().unsqueeze(1)
        parts = []
        features = batch
        if not any(name in batch for name in ("image_features", "text_features")):
            with torch.no_grad() if self.towers_frozen else contextlib.nullcontext():
                features = self.tower_features(batch)
        image_features, text_features = features.get("image_features"), features.get("text_features")
        if image_features is not None:
            fill = self.no_image.unsqueeze(0) if self.no_image is not None else torch.zeros_like(image_features)
            parts.append(image_features * has_image + fill * (1 - has_image))
        if text_features is not None:
            parts.append(text_features)
        parts += [batch["quantities"].float(), 1 - has_image]
        output = self.head(torch.cat(parts, dim=1))
        return output.squeeze(1) if self.outputs == 1 else output


class ProductDataset(Dataset):
    """Rows of one frame as model input: preprocessed photo (or a blank and ``has_image`` 0), token tensors,
    standardised quantity features and the log1p target. Augmentation draws from (seed, epoch, row) so that a
    resumed or multi-process run sees the same images as an uninterrupted one."""

    def __init__(self, paths: list[Path | None] | None, tokens: dict[str, torch.Tensor] | None,
                 quantities: np.ndarray, log_target: np.ndarray | None, preprocessing: ImagePreprocessing | None,
                 tally: ImageTally | None = None, train: bool = False, seed: int = 0) -> None:
        self.paths, self.tokens, self.preprocessing = paths, tokens, preprocessing
        self.quantities = torch.as_tensor(quantities, dtype=torch.float32)
        self.log_target = log_target
        self.tally, self.train, self.seed, self.epoch = tally, train, seed, 0

    def __len__(self) -> int:
        return len(self.quantities)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item: dict[str, torch.Tensor] = {"quantities": self.quantities[i], "has_image": torch.tensor(0.0)}
        if self.log_target is not None:
            item["target"] = torch.tensor(float(self.log_target[i]))
        if self.tokens is not None:
            item.update({f"tok_{k}": v[i] for k, v in self.tokens.items()})
        if self.paths is not None and self.preprocessing is not None:
            size = self.preprocessing.size
            image = read_image(self.paths[i], size, self.tally)
            if image is None:
                item["image"] = torch.zeros(3, size, size)
            else:
                if self.train:
                    image = augment(image, np.random.default_rng((self.seed, self.epoch, i)))
                item["image"] = torch.from_numpy(image_array(image, self.preprocessing))
                item["has_image"] = torch.tensor(1.0)
        return item
