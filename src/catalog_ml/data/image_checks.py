"""Image validation: decode fully with Pillow, with size, pixel and decompression-bomb caps."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImageCheck:
    """The outcome of validating one image's bytes."""

    ok: bool
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    error: str | None = None


def check_image_bytes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> ImageCheck:
    """Decode ``data`` completely; truncated, corrupt, oversized or bomb-like images are reported, not raised."""
    if not data:
        return ImageCheck(ok=False, error="empty file")
    if len(data) > max_bytes:
        return ImageCheck(ok=False, error=f"file of {len(data)} bytes exceeds the {max_bytes}-byte cap")
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:  # from the header: nothing decoded yet
                    return ImageCheck(ok=False, width=width, height=height, sha256=digest,
                                      error=f"{width}x{height} exceeds the {max_pixels}-pixel cap")
                # JPEG: decode every scan at 1/8 scale (truncation and corruption still surface, at a fraction of
                # the work and memory); other formats ignore the draft request and decode fully.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        return ImageCheck(ok=False, sha256=digest, error=f"decompression bomb guard: {error}")
    except (OSError, SyntaxError, ValueError) as error:
        message = str(error) or type(error).__name__
        return ImageCheck(ok=False, sha256=digest, error=f"not a valid image ({message})")
    return ImageCheck(ok=True, width=width, height=height, sha256=digest)
