"""The shared body of the image + text network approaches (effnet_bert, clip_vitl, laion_clip_vith): towers from
``backbones``, data from ``multimodal``, training by ``trainer``. Subclasses only say which towers to build."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from catalog_ml.core.approach import Approach
from catalog_ml.data.image_io import ImagePreprocessing, ImageTally
from catalog_ml.data.images import image_paths
from catalog_ml.features.text import joined_text, quantity_features
from catalog_ml.nn.trainer_settings import TrainerSettings


@dataclass(frozen=True)
class DeepSettings(TrainerSettings):
    """Trainer settings plus what every fusion network shares."""

    size: Literal["real", "tiny"] = field(default="real", metadata={
        "help": "real = the named backbones; tiny = small random towers for smoke tests on CPU"})
    missing_image: Literal["learned", "zero"] = field(default="learned", metadata={
        "help": "rows without a readable photo: a learned 'no image' vector, or zeros (both add a flag)"})
    use_images: bool = field(default=True, metadata={"help": "false = text-only network"})
    image_size: int = field(default=0, metadata={"help": "input side in pixels (0 = the backbone's own)"})
    max_tokens: int = field(default=96, metadata={"help": "text tokens per row"})
    max_text_chars: int = field(default=1500, metadata={"help": "characters of catalogue text read per row"})
    hidden: int = field(default=512, metadata={"help": "fusion head width"})
    dropout: float = field(default=0.2, metadata={"help": "fusion head dropout"})
    early_stopping_share: float = field(default=0.1, metadata={
        "help": "share of the training rows held out for early stopping (never the scored fold)"})


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _log_loss_of_logits(codes: np.ndarray, logits: np.ndarray) -> float:
    """Early-stopping score of a classifier: mean cross-entropy of the stop rows."""
    proba = _softmax(logits)
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(codes)), codes], 1e-15, 1.0))))


class DeepFusionApproach(Approach):
    """Fit: build towers, tokenise, train with early stopping on an inner split; predict: the best checkpoint.
    Classification: a class-logit head trained with cross-entropy, early-stopped on log-loss."""

    tasks: ClassVar[tuple[str, ...]] = ("regression", "classification")
    saves_models: ClassVar[bool] = False  # fine-tuned backbones take GBs a fold: ``--save-models`` keeps them

    tiny_settings: ClassVar[tuple[str, ...]] = ("size=tiny", "epochs=2", "batch_size=16", "frozen_epochs=1",
                                                "max_tokens=24", "hidden=32")

    @abstractmethod
    def build_towers(self) -> tuple[Any, Any, ImagePreprocessing | None]:
        """(image tower or None, text tower, image preprocessing or None)."""

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame | None = None) -> None:
        import open_clip  # noqa: F401  (imported before seeding: a first import may draw random numbers)
        import timm  # noqa: F401
        import torch
        import transformers  # noqa: F401

        from catalog_ml.nn.multimodal import FusionRegressor
        from catalog_ml.nn.trainer import Trainer, settings_fingerprint

        c = self.config
        torch.manual_seed(self.context.seed)
        image_tower, text_tower = self._towers()
        if image_tower is not None and not self.spec.image_path.is_dir():
            self.context.logger.warning("%s: image folder does not exist: every row trains with the 'no image' "
                                        "input (download the images first)", self.spec.image_path)
        quantities = quantity_features(train, self.spec).to_numpy(dtype=np.float32)
        self.q_mean_, self.q_std_ = quantities.mean(axis=0), quantities.std(axis=0) + 1e-6
        stop = self.early_stopping_mask(len(train), c.early_stopping_share)
        stop_score = None
        if self.is_classification:
            self.present_, target = self.local_class_codes(train)
            c = replace(c, loss="cross_entropy")
            stop_score = partial(_log_loss_of_logits, target[stop])
            stop_target = target[stop]
        else:
            target = np.log1p(self.target(train))
            stop_target = np.expm1(target[stop])
        outputs = len(self.present_) if self.is_classification else 1
        model = FusionRegressor(image_tower, text_tower, quantities.shape[1], c.hidden, c.dropout, c.missing_image,
                                outputs)
        self.outputs_ = outputs
        fingerprint = settings_fingerprint(c, self.name, self.spec.name, self.context.fold, self.context.seed)
        self.trainer_ = Trainer(model, c, self.context.work_dir, fingerprint, self.context.seed)
        result = self.trainer_.fit(self._dataset(train.loc[~stop], target[~stop], train_mode=True),
                                   self._dataset(train.loc[stop], None), stop_target, stop_score=stop_score)
        self.fit_summary_ = {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                             "resumed_after_epoch": result.resumed_from_epoch}
        self.missing_rows_ = self._missing_images(train)

    def _towers(self) -> tuple[Any, Any]:
        """(image tower or None, text tower), with the image preprocessing and the image tally kept."""
        c = self.config
        image_tower, text_tower, preprocessing = self.build_towers()
        if not c.use_images or self.spec.image_path is None:
            image_tower = preprocessing = None
        if preprocessing is not None and c.image_size:
            preprocessing = replace(preprocessing, size=c.image_size)
        self.text_tower_, self.preprocessing_ = text_tower, preprocessing
        self.tally_ = ImageTally()
        return image_tower, text_tower

    def fitted_state(self) -> dict[str, Any]:
        """The network's weights (towers included) and the input scaling; the towers' code is rebuilt on load."""
        return {"weights": self.trainer_.model.state_dict(), "q_mean_": self.q_mean_, "q_std_": self.q_std_,
                "outputs_": self.outputs_, "present_": getattr(self, "present_", None),
                "fit_summary_": self.fit_summary_}

    def restore_fitted(self, state: dict[str, Any]) -> None:
        from catalog_ml.nn.multimodal import FusionRegressor
        from catalog_ml.nn.trainer import Trainer

        c, weights = self.config, state.pop("weights")
        vars(self).update(state, missing_rows_=0)
        image_tower, text_tower = self._towers()
        model = FusionRegressor(image_tower, text_tower, len(self.q_mean_), c.hidden, c.dropout, c.missing_image,
                                self.outputs_)
        model.load_state_dict(weights)
        self.trainer_ = Trainer(model, c, None, "loaded", self.context.seed)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.missing_rows_ += self._missing_images(frame)
        outputs = self.trainer_.predict_log(self._dataset(frame, None))
        if self.is_classification:
            return self.full_proba(_softmax(outputs), self.present_)
        return self.prices_from_log1p(outputs)

    def report(self) -> dict[str, Any]:
        return {**self.fit_summary_, "images_missing": self.missing_rows_,
                "images_unreadable": len(self.tally_.unreadable_files)}

    def _missing_images(self, frame: pd.DataFrame) -> int:
        if self.preprocessing_ is None:
            return 0
        return sum(p is None or not p.is_file() for p in image_paths(frame, self.spec))

    def _dataset(self, frame: pd.DataFrame, log_target: np.ndarray | None, train_mode: bool = False) -> Any:
        from catalog_ml.nn.multimodal import ProductDataset

        frame = frame.reset_index(drop=True)
        quantities = (quantity_features(frame, self.spec).to_numpy(dtype=np.float32) - self.q_mean_) / self.q_std_
        texts = joined_text(frame, self.spec, self.config.max_text_chars).tolist()
        tokens = self.text_tower_.tokenize(texts) if self.text_tower_ is not None else None
        paths = image_paths(frame, self.spec) if self.preprocessing_ is not None else None
        return ProductDataset(paths, tokens, quantities, log_target, self.preprocessing_, self.tally_,
                              train=train_mode, seed=self.context.seed)
