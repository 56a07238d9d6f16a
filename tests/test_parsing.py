import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog_ml.data.parsing import (
    parse_catalog_content,
    parse_catalog_frame,
    parse_number,
    title_item_count,
    title_pack_count,
    title_size,
)
from catalog_ml.data.units import MISSING_MARKERS, normalise_unit

# ---- examples ---------------------------------------------------------------------------------------------------


def test_fields_and_multiline_values():
    text = ("Item Name: Acme Coffee, 12 Ounce (Pack of 6)\nBullet Point 1: Rich\nBullet Point 2: Bold\n"
            "continues here\nProduct Description: Line one\nline two\nValue: 72.0\nUnit: Ounce\n"
            "Item Pack Quantity: 6\n")
    parsed = parse_catalog_content(text)
    assert parsed.item_name == "Acme Coffee, 12 Ounce (Pack of 6)"
    assert parsed.bullet_points == ("Rich", "Bold continues here")
    assert parsed.description == "Line one line two"
    assert parsed.value == 72.0
    assert parsed.unit == "Ounce"
    assert parsed.item_pack_quantity == 6.0
    assert parsed.pack_count == 6.0
    assert parsed.title_size_value == 12.0


@pytest.mark.parametrize("title, pack", [
    ("Foo Sauce, 12 Ounce (Pack of 6)", 6), ("Cola 2-Pack", 2), ("Cola 2 Pack", 2), ("Cookies, 6 x 200 g", 6),
    ("Wine, 12.7 Ounce - 12 per case.", 12), ("Set of 3 Mugs", 3), ("Cereal, 32 OZ, PK- 6", 6),
    ("Plain Coffee 12 oz", None),
])
def test_title_pack_counts(title, pack):
    assert title_pack_count(title) == pack


@pytest.mark.parametrize("title, count", [("Tea, 12 Count", 12), ("Pods 100 ct", 100), ("Sardines - 3PC", 3),
                                          ("Tea Bags", None)])
def test_title_item_counts(title, count):
    assert title_item_count(title) == count


def test_title_size():
    assert title_size("Soda 12 fl. oz cans") == (12.0, "fl. oz")
    assert title_size("Rice, 5-Pound Bag")[0] == 5.0
    assert title_size("No size here") == (None, None)


@pytest.mark.parametrize("raw, family, factor", [
    ("Ounce", "mass", 28.349523125), ("ounce", "mass", 28.349523125), ("Ounces", "mass", 28.349523125),
    ("oz", "mass", 28.349523125), ("Fl Oz", "volume", 29.5735295625), ("FL Oz", "volume", 29.5735295625),
    ("Fluid Ounce", "volume", 29.5735295625), ("fl. oz", "volume", 29.5735295625), ("Count", "count", 1.0),
    ("COUNT", "count", 1.0), ("grams", "mass", 1.0), ("pound", "mass", 453.59237), ("ml", "volume", 1.0),
    ("Liters", "volume", 1000.0), ("Inch", "length", 2.54), ("sq ft", "area", 929.0304),
])
def test_unit_normalisation(raw, family, factor):
    unit = normalise_unit(raw)
    assert unit.family == family
    assert unit.factor == pytest.approx(factor)
    assert unit.raw == raw


def test_unknown_and_missing_units_are_kept_and_counted():
    assert normalise_unit("Furlong").family == "unknown"
    assert normalise_unit("None").family == "missing"
    texts = ["Item Name: A\nValue: 3\nUnit: Furlong\n", "Item Name: B\nValue: nan\nUnit: None\n",
             "Item Name: C\nValue: 2\nUnit: Ounce\n"]
    frame, report = parse_catalog_frame(texts)
    assert list(frame["unit_family"]) == ["unknown", "missing", "mass"]
    assert frame["unit_raw"].iloc[0] == "Furlong"
    assert report.unknown_units == {"Furlong": 1}
    assert report.families["missing"] == 1
    assert math.isnan(frame["value"].iloc[1])
    assert frame["quantity_base"].iloc[2] == pytest.approx(2 * 28.349523125)
    assert "Furlong" in report.summary()


def test_parse_number():
    assert parse_number("72.0") == 72.0
    assert parse_number("1,000") == 1000.0
    assert parse_number("2,5") == 2.5
    assert parse_number("abc") is None
    assert parse_number("nan") is None


def test_text_without_keys_becomes_the_item_name():
    assert parse_catalog_content("just a product title").item_name == "just a product title"
    assert parse_catalog_content("").item_name == ""
    assert parse_catalog_content(None).value is None


# ---- properties -------------------------------------------------------------------------------------------------

line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                    max_size=40).map(str.strip).filter(lambda s: s and ":" not in s)


@given(st.text(max_size=300))
def test_parser_never_raises(text):
    parsed = parse_catalog_content(text)
    assert parsed.pack_count >= 1.0 or parsed.pack_count > 0


@given(name=line_text.filter(lambda s: s.lower() not in MISSING_MARKERS),  # "Item Name: NA" means no name
       bullets=st.lists(line_text, max_size=5),
       value=st.floats(min_value=0.01, max_value=1e5, allow_nan=False).map(lambda v: round(v, 2)),
       unit=st.sampled_from(["Ounce", "Fl Oz", "Count", "gram", "pound", "ml"]))
def test_round_trip_of_composed_content(name, bullets, value, unit):
    lines = [f"Item Name: {name}"] + [f"Bullet Point {i}: {b}" for i, b in enumerate(bullets, 1)]
    lines += [f"Value: {value}", f"Unit: {unit}"]
    parsed = parse_catalog_content("\n".join(lines) + "\n")
    assert parsed.item_name == " ".join(name.split()) or parsed.item_name == name
    assert len(parsed.bullet_points) == len(bullets)
    assert parsed.value == pytest.approx(value)
    assert parsed.unit == unit
    assert normalise_unit(parsed.unit).family != "unknown"


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["(Pack of {n})", "{n}-Pack", "Pack of {n}",
                                                                 "{n} Pack", "Case of {n}"]))
def test_pack_count_recovered_from_any_title_pattern(n, pattern):
    title = "Brand Thing, 12 Ounce " + pattern.format(n=n)
    assert parse_catalog_content(f"Item Name: {title}\nValue: 1\nUnit: Count\n").pack_count == n


@given(st.sampled_from(["ounce", "fl oz", "gram", "pound", "count", "ml", "liter"]),
       st.sampled_from([str.lower, str.upper, str.title]), st.booleans())
def test_unit_normalisation_ignores_case_and_plural(unit, case, plural):
    raw = case(unit + ("s" if plural else ""))
    assert normalise_unit(raw).family == normalise_unit(unit).family != "unknown"


# ---- the real competition rows (skipped when ../shared/data is absent) ------------------------------------------


def _real_rows(folder) -> dict[str, str]:
    frame = pd.read_csv(folder / "train_sample.csv", dtype={"sample_id": str})
    return dict(zip(frame["sample_id"], frame["catalog_content"], strict=True))


@pytest.mark.real_data
@pytest.mark.parametrize("sample_id, value, unit, family, pack, n_bullets", [
    ("33127", 72.0, "Fl Oz", "volume", 6, 0),      # "..., 12 Ounce (Pack of 6)"
    ("292686", 12.0, "Count", "count", 12, 1),     # "..., 12.7 Ounce - 12 per case."
    ("9259", 6.25, "ounce", "mass", 1, 3),         # lower-case unit
    ("37614", 192.0, "Fl Oz", "volume", 6, 0),     # "PK- 6" in the title
    ("186165", None, None, "missing", 1, 0),       # "Value: nan", "Unit: None"
])
def test_real_rows(amazon_sample, sample_id, value, unit, family, pack, n_bullets):
    parsed = parse_catalog_content(_real_rows(amazon_sample)[sample_id])
    assert parsed.value == value
    assert parsed.unit == unit
    assert normalise_unit(parsed.unit).family == family
    assert parsed.pack_count == pack
    assert len(parsed.bullet_points) == n_bullets


@pytest.mark.real_data
def test_all_real_rows_parse_with_known_units(amazon_sample):
    frame, report = parse_catalog_frame(_real_rows(amazon_sample).values())
    assert (frame["item_name"].str.len() > 0).all()
    assert not report.unknown_units
    assert report.families["missing"] == 2
    multiline = frame[frame["description"].str.len() > 0]
    assert len(multiline) > 0 and not multiline["description"].str.contains("\n").any()
