"""Reading photos of every mode into model input; missing and unreadable files are counted, never grey squares."""

import numpy as np
import pytest
from PIL import Image

from catalog_ml.data.image_io import ImageTally, augment, image_array, read_image, to_rgb
from catalog_ml.nn.backbones import ImagePreprocessing

PRE = ImagePreprocessing(size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


@pytest.mark.parametrize("mode, suffix", [("RGB", ".jpg"), ("CMYK", ".jpg"), ("P", ".png"), ("RGBA", ".png"),
                                          ("LA", ".png"), ("I;16", ".png"), ("L", ".png"), ("1", ".png")])
def test_every_mode_becomes_rgb(tmp_path, mode, suffix):
    path = tmp_path / f"image{suffix}"
    Image.new(mode, (40, 20)).save(path)
    tally = ImageTally()
    image = read_image(path, 32, tally)
    assert image.mode == "RGB" and image.size == (40, 20)
    array = image_array(image, PRE)
    assert array.shape == (3, 32, 32) and array.dtype == np.float32
    assert tally.counts["ok"] == 1


def test_transparency_goes_to_white_and_16_bit_keeps_its_range():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert to_rgb(rgba).getpixel((0, 0)) == (255, 255, 255)
    deep = Image.fromarray(np.full((4, 4), 40000, dtype=np.uint16))
    assert to_rgb(deep).getpixel((0, 0)) == (255, 255, 255)  # scaled to its own peak, not clipped to 255/65535


def test_missing_truncated_garbage_and_bomb_are_counted(tmp_path):
    good = tmp_path / "good.jpg"
    Image.effect_noise((64, 64), 40).convert("RGB").save(good)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[:300])
    garbage = tmp_path / "page.jpg"
    garbage.write_text("<html>not found</html>")
    big = tmp_path / "big.png"
    Image.new("L", (3000, 3000)).save(big)
    tally = ImageTally()
    assert read_image(tmp_path / "absent.jpg", 32, tally) is None
    assert read_image(None, 32, tally) is None
    assert read_image(truncated, 32, tally) is None
    assert read_image(garbage, 32, tally) is None
    assert read_image(big, 32, tally, max_pixels=1_000_000) is None
    assert read_image(good, 32, tally) is not None
    summary = tally.summary()
    assert (summary["images_missing"], summary["images_unreadable"], summary["images_read"]) == (2, 3, 1)
    assert any("pixel cap" in p for p in summary["image_problems"])


def test_real_truncated_jpegs_are_all_flagged(amazon_sample):
    from catalog_ml.data.image_checks import check_image_bytes

    files = sorted((amazon_sample / "images").glob("*"))
    bad = [f for f in files if not check_image_bytes(f.read_bytes()).ok]
    tally = ImageTally()
    assert all(read_image(f, 64, tally) is None for f in bad)
    assert tally.counts["unreadable"] == len(bad) == 17


def test_augment_keeps_most_of_the_image():
    image = Image.new("RGB", (100, 80))
    out = augment(image, np.random.default_rng(0))
    assert 90 <= out.width <= 100 and 72 <= out.height <= 80


def test_a_very_large_photo_is_reduced_right_after_decoding(tmp_path):
    from PIL import Image

    from catalog_ml.data.image_io import read_image

    path = tmp_path / "large.png"
    Image.new("RGBA", (3000, 1500), (255, 0, 0, 128)).save(path)
    image = read_image(path, 100)
    assert image.mode == "RGB" and 200 <= max(image.size) < 400 and image.size[0] == 2 * image.size[1]
    assert image.getpixel((10, 10))[0] == 255  # red over white stays red; half-transparent keeps white in G/B
