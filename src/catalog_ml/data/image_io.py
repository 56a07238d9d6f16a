"""Reading product photos into model input: any mode (CMYK, palette, 16-bit, alpha) to RGB, a decompression-bomb
guard, padding to a white square, and a tally of missing and unreadable files (never a silent grey square)."""

from __future__ import annotations

import logging
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from catalog_ml.data.image_checks import DEFAULT_MAX_PIXELS

log = logging.getLogger(__name__)

MISSING = "missing"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ImagePreprocessing:
    """What a backbone expects: square input size and per-channel normalisation."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass
class ImageTally:
    """Counts of images read, missing and unreadable (thread-safe), with the first few problems by name."""

    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    unreadable_files: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, detail: str = "") -> None:
        with self._lock:
            self.counts[outcome] += 1
            if detail and len(self.examples) < 20:
                self.examples.append(detail)

    def summary(self) -> dict[str, object]:
        return {"images_read": self.counts["ok"], "images_missing": self.counts[MISSING],
                "images_unreadable": self.counts[UNREADABLE], "image_problems": list(self.examples)}


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB; transparency is composited onto white (product photos sit on white)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() if array.size and array.max() > 0 else 1.0
        image = Image.fromarray((array / peak * 255.0).astype(np.uint8), mode="L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def reduced(image: Image.Image, size: int) -> Image.Image:
    """A decoded image shrunk by an integer factor (box average) while its longer side stays at least ``2 * size``:
    every later copy (mode conversion, white square, resize) then works on the small image, not on, say, a
    6300x6300 RGBA PNG (``benchmarks/bench_image_read.py``)."""
    factor = max(image.size) // (2 * size)
    if factor < 2:
        return image
    if image.mode in ("P", "1"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    try:
        return image.reduce(factor)
    except ValueError:  # a mode Pillow cannot reduce (16-bit): to_rgb converts it at full size
        return image


def read_image(path: Path | None, size: int, tally: ImageTally | None = None,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image | None:
    """The image at ``path`` as RGB, reduced early (JPEG draft, then an integer reduction) when much larger than
    ``size``; None when the file is missing or cannot be decoded (counted in ``tally``)."""
    if path is None or not Path(path).is_file():
        if tally is not None:
            tally.add(MISSING, f"{path}: no file" if path else "")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > max_pixels:
                    raise ValueError(f"{image.width}x{image.height} exceeds the {max_pixels}-pixel cap")
                image.draft("RGB", (size * 2, size * 2))
                image.load()
                rgb = to_rgb(reduced(image, size))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        if tally is not None:
            tally.add(UNREADABLE, f"{Path(path).name}: {str(error) or type(error).__name__}")
            tally.unreadable_files.add(str(path))
        return None
    if tally is not None:
        tally.add("ok")
    return rgb


def square_pad(image: Image.Image) -> Image.Image:
    """Pad to a square with white so that resizing keeps the whole product and its proportions."""
    side = max(image.size)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas


def image_array(image: Image.Image, preprocessing: ImagePreprocessing) -> np.ndarray:
    """A CHW float32 array, padded square, resized and normalised as the backbone expects."""
    resized = square_pad(image).resize((preprocessing.size, preprocessing.size), Image.Resampling.BICUBIC)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    array = (array - np.asarray(preprocessing.mean, dtype=np.float32)) / np.asarray(preprocessing.std,
                                                                                      dtype=np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def augment(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Training augmentation: a mild random crop (90-100% of each side) and a horizontal flip."""
    width, height = image.size
    scale = rng.uniform(0.9, 1.0)
    crop_w, crop_h = max(1, int(width * scale)), max(1, int(height * scale))
    left, top = int(rng.integers(0, width - crop_w + 1)), int(rng.integers(0, height - crop_h + 1))
    image = image.crop((left, top, left + crop_w, top + crop_h))
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else image
