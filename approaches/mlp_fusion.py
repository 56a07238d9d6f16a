"""Early-fusion MLP on frozen text embeddings (MiniLM), image embeddings (from a table) and the row's attributes
(parsed quantities, numeric attributes, text numbers), on log1p price (classification: cross-entropy over the
classes); variants: text-only, image-only, fused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from catalog_ml.cli.run import approach_main
from catalog_ml.core.approach import Approach
from catalog_ml.core.registry import register_approach
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError
from catalog_ml.features.embedding_table import embeddings_for, read_embedding_table
from catalog_ml.features.text import TextNumbers, joined_text, scaled_attributes
from catalog_ml.nn.sentence_embeddings import DEFAULT_TEXT_CHARS, embed_dataset_texts, sentence_embeddings


@dataclass(frozen=True)
class MlpFusionConfig:
    inputs: Literal["fused", "text", "image"] = field(default="fused", metadata={
        "help": "fused = text + image (+ attributes: quantities, numeric attributes, text numbers); image needs "
                "image_embeddings"})
    image_embeddings: str = field(default="", metadata={"help": "parquet table of id + image embedding columns"})
    hidden: int = field(default=256, metadata={"help": "hidden units per layer"})
    dropout: float = field(default=0.2, metadata={"help": "dropout after each hidden layer"})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay"})
    learning_rate: float = field(default=4e-3, metadata={"help": "AdamW learning rate"})
    batch_size: int = field(default=512, metadata={
        "help": "rows per step"})
    max_epochs: int = field(default=60, metadata={"help": "epochs at most"})
    patience: int = field(default=8, metadata={"help": "early-stopping patience (epochs) on the inner split"})
    early_stopping_share: float = field(default=0.1, metadata={
        "help": "share of the training rows held out for early stopping (never the scored fold)"})
    text_model: Literal["minilm", "mpnet"] = field(default="minilm", metadata={
        "help": "sentence encoder: minilm (packaged, 384-d) or mpnet (all-mpnet-base-v2, 768-d, about 4x slower; "
                "catalog-ml weights install mpnet first)"})
    max_text_chars: int = field(default=DEFAULT_TEXT_CHARS, metadata={"help": "characters of text embedded per row"})
    image_components: int = field(default=64, metadata={
        "help": "PCA size of the image embeddings, fitted on the fold's training photos (0 = "
                "every column)"})


@register_approach
class MlpFusion(Approach):
    """Batch-normalised MLP (dropout, weight decay, early stopping) over frozen embeddings and attributes."""

    name = "mlp_fusion"
    Config = MlpFusionConfig
    tasks = ("regression", "classification")

    @classmethod
    def warm_cache(cls, config: MlpFusionConfig, dataset: Dataset, cache_dir: Path | None) -> None:
        if config.inputs in ("text", "fused"):
            embed_dataset_texts(dataset, config.max_text_chars, cache_dir, config.text_model)

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        import torch
        from torch import nn

        from catalog_ml.nn.device import use_torch_threads
        from catalog_ml.nn.fast_dropout import UniformDropout

        c = self.config
        if c.inputs == "image" and not c.image_embeddings:
            raise CatalogError("mlp_fusion: inputs=image needs --set image_embeddings=PATH.parquet")
        self.images_ = (read_embedding_table(c.image_embeddings, train[self.spec.id_column])
                        if c.image_embeddings else None)
        self.image_pca_ = self._fit_image_pca(train) if self.images_ is not None else None
        self.text_numbers_ = TextNumbers.fit(train, self.spec)
        features = self._features(train)
        self.mean_, self.std_ = features.mean(axis=0), features.std(axis=0) + 1e-6
        x = torch.tensor((features - self.mean_) / self.std_, dtype=torch.float32)
        if self.is_classification:
            self.present_, codes = self.local_class_codes(train)
            y = torch.tensor(codes, dtype=torch.long)
            outputs = len(self.present_)
        else:
            y = torch.tensor(np.log1p(self.target(train)), dtype=torch.float32)
            outputs = 1
        stop = torch.tensor(self.early_stopping_mask(len(train), c.early_stopping_share))
        use_torch_threads()
        generator = torch.Generator().manual_seed(self.context.seed)
        torch.manual_seed(self.context.seed)
        self.network_ = nn.Sequential(
            nn.Linear(x.shape[1], c.hidden), nn.BatchNorm1d(c.hidden), nn.ReLU(), UniformDropout(c.dropout),
            nn.Linear(c.hidden, c.hidden // 2), nn.BatchNorm1d(c.hidden // 2), nn.ReLU(), UniformDropout(c.dropout),
            nn.Linear(c.hidden // 2, outputs))
        if not self.is_classification:
            with torch.no_grad():
                self.network_[-1].bias.fill_(float(y[~stop].mean()))
        optimiser = torch.optim.AdamW(self.network_.parameters(), lr=c.learning_rate, weight_decay=c.weight_decay)
        fit_x, fit_y, stop_x, stop_y = x[~stop], y[~stop], x[stop], y[stop]
        best, best_state, waited = float("inf"), None, 0
        for _ in range(c.max_epochs):
            self.network_.train()
            order = torch.randperm(len(fit_x), generator=generator)
            for start in range(0, len(order), c.batch_size):
                batch = order[start:start + c.batch_size]
                if len(batch) < 2:
                    continue
                optimiser.zero_grad()
                loss = self._loss(self.network_(fit_x[batch]), fit_y[batch])
                loss.backward()
                optimiser.step()
            self.network_.eval()
            with torch.no_grad():
                stop_loss = float(self._loss(self.network_(stop_x), stop_y, stopping=True))
            if stop_loss < best - 1e-5:
                best, waited = stop_loss, 0
                best_state = {k: v.clone() for k, v in self.network_.state_dict().items()}
            else:
                waited += 1
                if waited >= c.patience:
                    break
        self.network_.load_state_dict(best_state)
        self.network_.eval()

    def _loss(self, output, target, stopping: bool = False):  # noqa: ANN001, ANN202
        """Cross-entropy for classes; on log1p price, smooth L1 to train and MAE to early-stop."""
        from torch import nn

        if self.is_classification:
            return nn.functional.cross_entropy(output, target)
        if stopping:
            return (output.squeeze(1) - target).abs().mean()
        return nn.functional.smooth_l1_loss(output.squeeze(1), target, beta=0.5)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        import torch

        x = torch.tensor((self._features(frame) - self.mean_) / self.std_, dtype=torch.float32)
        with torch.no_grad():
            output = self.network_(x)
        if self.is_classification:
            return self.full_proba(torch.softmax(output, dim=1).numpy(), self.present_)
        return self.prices_from_log1p(output.squeeze(1).numpy())

    def _features(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = [scaled_attributes(frame, self.spec, self.text_numbers_).to_numpy(dtype=np.float32)]
        if self.config.inputs in ("text", "fused"):
            texts = joined_text(frame, self.spec, self.config.max_text_chars).tolist()
            blocks.append(sentence_embeddings(texts, self.context.cache_dir, model=self.config.text_model))
        if self.config.inputs in ("image", "fused") and self.images_ is not None:
            image = embeddings_for(frame[self.spec.id_column], self.images_)
            missing = np.isnan(image[:, 0])
            if self.image_pca_ is not None:
                reduced = np.zeros((len(image), self.image_pca_.n_components_), dtype=np.float32)
                if (~missing).any():
                    reduced[~missing] = self.image_pca_.transform(image[~missing])
                image = reduced
            blocks.append(np.nan_to_num(image, nan=0.0))
            blocks.append(missing[:, None].astype(np.float32))  # "no image" flag
        return np.hstack([b for b in blocks if b.shape[1]]).astype(np.float32)

    def _fit_image_pca(self, train: pd.DataFrame):  # noqa: ANN202 (sklearn PCA | None)
        """PCA of the training rows' photo embeddings (rows without a photo left out); None when not reducing."""
        from sklearn.decomposition import PCA

        image = embeddings_for(train[self.spec.id_column], self.images_)
        photographed = image[~np.isnan(image[:, 0])]
        components = min(self.config.image_components, image.shape[1], len(photographed))
        if self.config.image_components <= 0 or components >= image.shape[1] or components < 1:
            return None
        return PCA(components, random_state=self.context.seed).fit(photographed)


if __name__ == "__main__":
    raise SystemExit(approach_main("mlp_fusion"))
