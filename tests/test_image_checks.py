import io

import pytest
from PIL import Image

from catalog_ml.data.image_checks import check_image_bytes


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("mode, fmt", [("RGB", "JPEG"), ("CMYK", "JPEG"), ("P", "PNG"), ("RGBA", "PNG"),
                                       ("I;16", "PNG"), ("L", "PNG")])
def test_common_modes_are_valid(mode, fmt):
    check = check_image_bytes(encode(Image.new(mode, (30, 20)), fmt))
    assert check.ok and (check.width, check.height) == (30, 20) and len(check.sha256) == 64


def test_truncated_and_garbage_are_flagged():
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "JPEG")
    truncated = check_image_bytes(data[: len(data) // 2])
    assert not truncated.ok and "truncated" in truncated.error
    assert not check_image_bytes(b"<html>not an image</html>").ok
    assert check_image_bytes(b"").error == "empty file"


def test_pixel_and_byte_caps_and_bomb_guard():
    big = encode(Image.new("L", (4000, 3000)), "PNG")  # compresses to a few KB
    assert "pixel cap" in check_image_bytes(big, max_pixels=1_000_000).error
    assert "byte cap" in check_image_bytes(big, max_bytes=100).error
    within_caps = check_image_bytes(big, max_pixels=10**12)  # 12 MP: under Pillow's bomb threshold
    assert within_caps.ok
    huge = encode(Image.new("1", (20000, 20000)), "PNG")  # 400 MP: Pillow's decompression-bomb guard
    result = check_image_bytes(huge, max_pixels=10**12)
    assert not result.ok and "bomb" in result.error
