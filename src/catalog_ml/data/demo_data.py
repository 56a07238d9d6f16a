"""A deterministic synthetic catalogue in the competition's exact format, with images that carry signal.

Structure: categories with unit prices and units, brands with price premiums, price = unit price x size^0.85 x
pack^0.9 x brand premium x noise; bullet points and descriptions from templates; near-duplicate listings with other
prices (sometimes the same image); missing values and units; some rows without an image file. Images are drawn with
Pillow: category-dependent shape and colour, a brand stripe, a printed size label and one dot per item in the pack.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from catalog_ml.atomic import write_frame_atomic, write_text_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Category:
    name: str
    nouns: tuple[str, ...]
    units: tuple[str, ...]
    sizes: tuple[float, ...]
    unit_price: float
    shape: str
    colour: tuple[int, int, int]
    words: tuple[str, ...]


CATEGORIES = (
    Category("coffee", ("Ground Coffee", "Whole Bean Coffee", "Medium Roast Coffee"), ("Ounce", "oz", "ounce"),
             (8, 10, 12, 16, 24, 32), 0.55, "bag", (111, 78, 55), ("roast", "arabica", "rich", "aroma")),
    Category("tea", ("Green Tea Bags", "Black Tea", "Herbal Tea"), ("Count", "count", "ct"),
             (16, 20, 40, 80, 100), 0.14, "box", (76, 140, 74), ("caffeine", "leaf", "brew", "calming")),
    Category("sauce", ("Hot Sauce", "Taco Sauce", "Barbecue Sauce"), ("Fl Oz", "fl oz", "Fluid Ounce"),
             (5, 8, 12, 16, 20), 0.42, "bottle", (200, 40, 35), ("spicy", "pepper", "tangy", "marinade")),
    Category("olive_oil", ("Extra Virgin Olive Oil", "Avocado Oil", "Cooking Oil"), ("Fl Oz", "fl oz"),
             (8.5, 16.9, 25.4, 33.8, 68), 0.48, "bottle", (150, 160, 40), ("cold pressed", "olive", "cooking")),
    Category("snacks", ("Potato Chips", "Pretzels", "Trail Mix", "Tortilla Chips"), ("Ounce", "oz"),
             (1, 2.5, 5, 8, 10, 16), 0.33, "bag", (235, 150, 40), ("crunchy", "salted", "snack", "party")),
    Category("candy", ("Gummy Bears", "Chocolate Bar", "Hard Candy"), ("Ounce", "ounce"),
             (1.5, 3.5, 5, 7, 16, 32), 0.52, "box", (220, 90, 160), ("sweet", "chocolate", "treat", "gift")),
    Category("pet_food", ("Dry Dog Food", "Cat Food", "Dog Treats"), ("Pound", "pound", "lb"),
             (3, 4, 5, 15, 30), 2.1, "bag", (50, 90, 180), ("protein", "grain free", "puppy", "chicken")),
    Category("spices", ("Ground Cinnamon", "Garlic Powder", "Smoked Paprika", "Basil"), ("Ounce", "oz"),
             (1.5, 2, 4, 6.25, 16), 1.25, "jar", (190, 150, 100), ("seasoning", "organic", "herb", "kitchen")),
    Category("vitamins", ("Vitamin D3 Gummies", "Multivitamin Tablets", "Fish Oil Softgels"), ("Count", "count"),
             (30, 60, 90, 120, 180), 0.11, "bottle", (120, 70, 170), ("immune", "daily", "supplement", "health")),
    Category("batteries", ("AA Batteries", "AAA Batteries", "9V Batteries"), ("Count", "COUNT"),
             (2, 4, 8, 24, 48), 0.65, "box", (60, 60, 60), ("alkaline", "long lasting", "power", "device")),
)
_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "bel", "sun", "ro", "zi", "na", "qu", "dor", "fa", "le", "mar")
_PACKS = (2, 3, 4, 6, 8, 12)
_BULLETS = (
    "{Word}: made for everyday {word} lovers",
    "Premium quality {noun} from {brand}",
    "Great for {word2}, gifts and family meals",
    "Each pack contains {pack} x {size} {unit}",
    "Trusted {brand} quality since {year}",
    "{Word2} and {word} in every serving",
)


def _brand_name(rng: np.random.Generator) -> str:
    syllables = rng.choice(_SYLLABLES, size=rng.integers(2, 4))
    return "".join(syllables).capitalize()


def _brands(rng: np.random.Generator) -> dict[str, list[tuple[str, float]]]:
    brands = {}
    for category in CATEGORIES:
        count = int(rng.integers(6, 13))
        brands[category.name] = [(_brand_name(rng), float(rng.lognormal(0.0, 0.35))) for _ in range(count)]
    return brands


def _image_token(*parts: object) -> str:
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-"
    return "".join(alphabet[b % 64] for b in digest[:11]) + "L"


def _format_size(value: float) -> str:
    return f"{value:g}"


def generate_rows(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Generate ``n_rows`` listings (with price) plus hidden generator attributes (category, brand, pack)."""
    rng = np.random.default_rng(seed)
    brands = _brands(rng)
    rows: list[dict] = []
    while len(rows) < n_rows:
        if rows and rng.random() < 0.06:
            rows.append(_near_duplicate(rows[int(rng.integers(len(rows)))], rng))
            continue
        rows.append(_new_listing(len(rows), rng, brands))
    frame = pd.DataFrame(rows[:n_rows])
    frame.insert(0, "sample_id", (100_000 + rng.permutation(10 * n_rows)[:n_rows]).astype(str))
    return frame


def _new_listing(index: int, rng: np.random.Generator, brands: dict) -> dict:
    category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
    brand, premium = brands[category.name][int(rng.integers(len(brands[category.name])))]
    noun = str(rng.choice(category.nouns))
    size = float(rng.choice(category.sizes))
    pack = 1 if rng.random() < 0.6 else int(rng.choice(_PACKS))
    unit = str(rng.choice(category.units))
    price = category.unit_price * size**0.85 * pack**0.9 * premium * rng.lognormal(0.0, 0.22) + 0.5
    descriptor = str(rng.choice(category.words)).title()
    name = _item_name(brand, descriptor, noun, size, unit, pack, rng)
    words = rng.choice(category.words, size=2, replace=True)
    fields = {"brand": brand, "noun": noun.lower(), "pack": pack, "size": _format_size(size), "unit": unit,
              "word": words[0], "word2": words[1], "Word": words[0].title(), "Word2": words[1].title(),
              "year": int(rng.integers(1920, 2020))}
    bullets = [template.format(**fields) for template in
               rng.choice(_BULLETS, size=int(rng.integers(0, 6)), replace=False)]
    description = (f"{brand} {noun} is a {words[0]} choice for {words[1]} lovers. "
                   * int(rng.integers(1, 4))).strip() if rng.random() < 0.45 else ""
    missing_quantity = rng.random() < 0.04
    content = _catalog_content(name, bullets, description, None if missing_quantity else size * pack,
                               None if missing_quantity else unit, pack if rng.random() < 0.1 else None)
    token = _image_token(index, brand, noun)
    return {"catalog_content": content, "image_seed": token,
            "image_link": f"https://m.media-amazon.com/images/I/{token}.jpg",
            "price": round(float(price), 2), "category": category.name, "brand": brand, "pack": pack,
            "size_label": f"{_format_size(size)} {unit.upper()}", "has_image": bool(rng.random() > 0.04)}


def _item_name(brand: str, descriptor: str, noun: str, size: float, unit: str, pack: int,
               rng: np.random.Generator) -> str:
    base = f"{brand} {descriptor} {noun}, {_format_size(size)} {unit}"
    if pack == 1:
        return base
    style = int(rng.integers(4))
    if style == 0:
        return f"{base} (Pack of {pack})"
    if style == 1:
        return f"{base}, {pack}-Pack"
    if style == 2:
        return f"{brand} {descriptor} {noun}, {pack} x {_format_size(size)} {unit}"
    return f"{base} - {pack} per case"


def _catalog_content(name: str, bullets: list[str], description: str, value: float | None, unit: str | None,
                     pack_quantity: int | None) -> str:
    lines = [f"Item Name: {name}"]
    lines += [f"Bullet Point {i}: {text}" for i, text in enumerate(bullets, start=1)]
    if description:
        lines.append(f"Product Description: {description}")
    lines.append(f"Value: {value:.1f}" if value is not None else "Value: nan")
    lines.append(f"Unit: {unit}" if unit else "Unit: None")
    if pack_quantity:
        lines.append(f"Item Pack Quantity: {pack_quantity}")
    return "\n".join(lines) + "\n"


def _near_duplicate(original: dict, rng: np.random.Generator) -> dict:
    copy = dict(original)
    name_line, rest = copy["catalog_content"].split("\n", 1)
    variant = name_line.upper() if rng.random() < 0.5 else name_line.replace(",", "")
    copy["catalog_content"] = variant.replace("ITEM NAME:", "Item Name:") + "\n" + rest
    copy["price"] = round(float(original["price"] * rng.lognormal(0.0, 0.18)), 2)
    if rng.random() < 0.5:
        copy["image_link"] = original["image_link"].replace(".jpg", "x.jpg")
    return copy


def render_image(category_name: str, brand: str, size_label: str, pack: int, product_seed: str = "",
                 size: int = 128) -> Image.Image:
    """A product photo stand-in: category shape and colour, brand stripe, size label, one dot per pack item, and a
    small product-specific mark (so that only re-listings of one product share identical image files)."""
    category = next(c for c in CATEGORIES if c.name == category_name)
    brand_seed = int(hashlib.md5(brand.encode()).hexdigest()[:6], 16)
    image = Image.new("RGB", (size, size), (246, 246, 242))
    draw = ImageDraw.Draw(image)
    colour = tuple(min(255, max(0, c + (brand_seed >> (8 * i) & 31) - 15)) for i, c in enumerate(category.colour))
    m = size // 8
    if category.shape == "bag":
        draw.polygon([(2 * m, m), (6 * m, m), (7 * m, 7 * m), (m, 7 * m)], fill=colour)
    elif category.shape == "bottle":
        draw.rectangle([3 * m + m // 2, m // 2, 4 * m + m // 2, 2 * m], fill=colour)
        draw.rounded_rectangle([2 * m + m // 2, 2 * m, 5 * m + m // 2, 7 * m + m // 2], radius=m // 2, fill=colour)
    elif category.shape == "jar":
        draw.ellipse([m + m // 2, m + m // 2, 6 * m + m // 2, 6 * m + m // 2], fill=colour)
    else:
        draw.rectangle([m, 2 * m, 7 * m, 7 * m], fill=colour)
    stripe = ((brand_seed * 7) % 255, (brand_seed * 13) % 255, (brand_seed * 29) % 255)
    draw.rectangle([2 * m, 3 * m, 6 * m, 3 * m + m // 2], fill=stripe)
    draw.text((2 * m, 4 * m), size_label, fill=(255, 255, 255))
    mark = int(hashlib.md5(product_seed.encode()).hexdigest()[:8], 16)
    for i in range(4):
        x, y = m // 4 + (mark >> (5 * i) & 15), m // 4 + (mark >> (5 * i + 2) & 15)
        draw.rectangle([x + i * 4, y, x + i * 4 + 2, y + 2], fill=((mark >> i) % 255, 90, 160))
    for i in range(min(pack, 12)):
        x = m // 2 + (i % 6) * (m + 2)
        y = size - m // 2 - (i // 6) * (m // 2 + 2) - 4
        draw.ellipse([x, y, x + 4, y + 4], fill=(20, 20, 20))
    return image


CATEGORY_LABEL_NOISE = 0.08


def _mislabelled(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The category training rows with a share carrying another category, as real catalogues do: the text names
    the category, so clean labels would make the task trivial. Its own generator leaves the price data unchanged;
    the hidden test labels stay true."""
    rng = np.random.default_rng(seed + 7919)
    wrong = rng.random(len(rows)) < CATEGORY_LABEL_NOISE
    names = [c.name for c in CATEGORIES]
    others = [[n for n in names if n != c] for c in rows["category"]]
    rows = rows.copy()
    rows.loc[wrong, "category"] = [choices[int(rng.integers(len(choices)))] for choices, w in zip(others, wrong,
                                                                                                    strict=True) if w]
    return rows


def write_demo_dataset(out_dir: Path, train_rows: int = 3000, test_rows: int = 1000, seed: int = 0,
                       images: bool = True, progress: bool = True) -> Path:
    """Write train.csv, test.csv, test_labels.csv (hidden prices and categories), images/ and dataset.yaml (price
    regression); plus train_category.csv and dataset_category.yaml (the same products, category classification).
    Returns the regression spec's path."""
    out_dir = Path(out_dir)
    frame = generate_rows(train_rows + test_rows, seed=seed)
    rng = np.random.default_rng(seed + 1)
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[rng.permutation(len(frame))[:test_rows]] = True
    public = ["sample_id", "catalog_content", "image_link"]
    write_frame_atomic(out_dir / "train.csv", frame.loc[~is_test, [*public, "price"]])
    write_frame_atomic(out_dir / "test.csv", frame.loc[is_test, public])
    write_frame_atomic(out_dir / "test_labels.csv", frame.loc[is_test, ["sample_id", "price", "category"]])
    write_frame_atomic(out_dir / "train_category.csv", _mislabelled(frame.loc[~is_test, [*public, "category"]], seed))
    if images:
        _write_images(frame, out_dir / "images", progress)
    spec = {"name": "demo", "task": "regression", "metric": "smape", "id_column": "sample_id", "target": "price",
            "text_columns": ["catalog_content"], "text_format": "catalog_content", "image_column": "image_link",
            "image_naming": "url_basename", "root": ".", "train_file": "train.csv", "test_file": "test.csv",
            "image_dir": "images" if images else None, "folds_file": "folds.csv"}
    spec_path = out_dir / "dataset.yaml"
    header = f"# Generated demo catalogue: {train_rows} train rows, {test_rows} test rows, seed {seed}.\n"
    write_text_atomic(spec_path, header + yaml.safe_dump(spec, sort_keys=False))
    category_spec = {**spec, "name": "demo_category", "task": "classification", "metric": "macro_f1",
                     "target": "category", "train_file": "train_category.csv", "folds_file": "folds_category.csv"}
    write_text_atomic(out_dir / "dataset_category.yaml", header.replace("catalogue", "catalogue (categories)")
                      + yaml.safe_dump(category_spec, sort_keys=False))
    log.info("demo data: %d train and %d test rows written to %s", train_rows, test_rows, out_dir)
    return spec_path


def _write_images(frame: pd.DataFrame, image_dir: Path, progress: bool) -> None:
    image_dir.mkdir(parents=True, exist_ok=True)
    seen = set()
    rows = frame[frame["has_image"]]
    for row in tqdm(rows.itertuples(index=False), total=len(rows), desc="demo images", disable=not progress,
                    leave=False):
        name = row.image_link.rsplit("/", 1)[-1]
        if name in seen:
            continue
        seen.add(name)
        image = render_image(row.category, row.brand, row.size_label, int(row.pack), row.image_seed)
        image.save(image_dir / name, format="JPEG", quality=85)
