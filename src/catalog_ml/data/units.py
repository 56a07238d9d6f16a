"""Unit normalisation: raw unit strings to a family and a factor to the family's canonical base quantity.

Canonical bases: mass in g, volume in ml, count in items, length in cm, area in cm². Unknown units are kept as
written (family ``unknown``) and counted by the caller, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MASS = {"g": 1.0, "gram": 1.0, "gm": 1.0, "gms": 1.0, "gr": 1.0, "kg": 1000.0, "kilogram": 1000.0, "mg": 0.001,
         "milligram": 0.001, "oz": 28.349523125, "ounce": 28.349523125, "lb": 453.59237, "lbs": 453.59237,
         "pound": 453.59237}
_VOLUME = {"ml": 1.0, "milliliter": 1.0, "millilitre": 1.0, "l": 1000.0, "liter": 1000.0, "litre": 1000.0,
           "cl": 10.0, "fl oz": 29.5735295625, "floz": 29.5735295625, "fluid ounce": 29.5735295625,
           "gallon": 3785.411784, "gal": 3785.411784, "quart": 946.352946, "qt": 946.352946, "pint": 473.176473,
           "pt": 473.176473, "cup": 236.5882365, "tbsp": 14.78676478125, "tablespoon": 14.78676478125,
           "tsp": 4.92892159375, "teaspoon": 4.92892159375, "cubic foot": 28316.846592, "cu ft": 28316.846592}
_COUNT = {"count": 1.0, "ct": 1.0, "cnt": 1.0, "each": 1.0, "ea": 1.0, "piece": 1.0, "pc": 1.0, "pcs": 1.0,
          "unit": 1.0, "item": 1.0, "pack": 1.0, "pk": 1.0, "bag": 1.0, "box": 1.0, "bottle": 1.0, "can": 1.0,
          "jar": 1.0, "capsule": 1.0, "tablet": 1.0, "pouch": 1.0, "sachet": 1.0, "roll": 1.0, "sheet": 1.0,
          "pair": 2.0, "dozen": 12.0, "k-cup": 1.0, "pod": 1.0, "stick": 1.0, "bar": 1.0, "packet": 1.0}
_LENGTH = {"cm": 1.0, "centimeter": 1.0, "mm": 0.1, "millimeter": 0.1, "m": 100.0, "meter": 100.0,
           "metre": 100.0, "in": 2.54, "inch": 2.54, "ft": 30.48, "foot": 30.48, "feet": 30.48, "yd": 91.44,
           "yard": 91.44}
_AREA = {"sq ft": 929.0304, "square foot": 929.0304, "square feet": 929.0304, "sq in": 6.4516,
         "square inch": 6.4516, "sq m": 10000.0, "square meter": 10000.0, "sq cm": 1.0, "square centimeter": 1.0}

UNIT_TABLE: dict[str, tuple[str, float]] = {}
for _family, _table in (("mass", _MASS), ("volume", _VOLUME), ("count", _COUNT), ("length", _LENGTH),
                        ("area", _AREA)):
    UNIT_TABLE.update({name: (_family, factor) for name, factor in _table.items()})

FAMILIES = ("mass", "volume", "count", "length", "area", "unknown", "missing")
MISSING_MARKERS = {"", "none", "nan", "null", "n/a", "na", "-"}
_IRREGULAR_PLURALS = {"feet": "feet", "inches": "inch", "boxes": "box", "pouches": "pouch", "dozens": "dozen"}


@dataclass(frozen=True)
class NormalisedUnit:
    """A unit string mapped to its family and the factor that converts one unit into the family's base."""

    raw: str | None
    key: str | None
    family: str
    factor: float | None


def unit_key(raw: str) -> str:
    """Lower-case, strip dots and extra spaces, and reduce a simple plural ('Ounces' -> 'ounce')."""
    text = re.sub(r"[.\s]+", " ", raw.strip().lower()).strip()
    text = text.replace("fl. oz", "fl oz").replace("fl.oz", "fl oz").replace("fluid ounces", "fluid ounce")
    if text in UNIT_TABLE:
        return text
    if text in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[text]
    for suffix in ("es", "s"):
        if text.endswith(suffix) and text[: -len(suffix)] in UNIT_TABLE:
            return text[: -len(suffix)]
    return text


def normalise_unit(raw: str | None) -> NormalisedUnit:
    """Map a raw unit ('Fl Oz', 'ounce', 'COUNT', 'grams') to (family, factor); unknown units keep their text."""
    if raw is None or str(raw).strip().lower() in MISSING_MARKERS:
        return NormalisedUnit(raw=raw, key=None, family="missing", factor=None)
    key = unit_key(str(raw))
    if key in UNIT_TABLE:
        family, factor = UNIT_TABLE[key]
        return NormalisedUnit(raw=raw, key=key, family=family, factor=factor)
    return NormalisedUnit(raw=raw, key=key, family="unknown", factor=None)
