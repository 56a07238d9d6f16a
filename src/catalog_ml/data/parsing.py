"""Parse the competition's ``catalog_content`` text into fields, quantities and pack counts.

``catalog_content`` is a block of ``Key: value`` lines (Item Name, Bullet Point N, Product Description, Value, Unit,
Item Pack Quantity); a value may continue over several lines. Pack counts are also read from titles ("(Pack of 6)",
"12 Count", "6 x 200 g", "2-Pack").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog_ml.data.units import MISSING_MARKERS, UNIT_TABLE, normalise_unit

log = logging.getLogger(__name__)

_FIELD_LINE = re.compile(
    r"^(Item Name|Bullet Point(?:\s*\d+)?|Product Description|Value|Unit|Item Pack Quantity)\s*:\s?(.*)$",
    re.IGNORECASE,
)
_NUMBER = r"(\d{1,6}(?:[.,]\d+)?)"
_PACK_PATTERNS = (
    re.compile(r"\bpack\s+of\s+(\d{1,4})\b", re.IGNORECASE),
    re.compile(r"\b(?:set|case|box|bundle|lot)\s+of\s+(\d{1,4})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,4})\s*-?\s*(?:pack|pk)\b", re.IGNORECASE),
    re.compile(r"\b(?:pack|pk)\s*[-:]\s*(\d{1,4})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,4})\s+per\s+(?:case|pack|box)\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,4})\s*[x×]\s*\d", re.IGNORECASE),
)
_COUNT_PATTERN = re.compile(r"\b(\d{1,5})\s*(?:-\s*)?(?:count|ct|pcs|pc|pieces|capsules|tablets|pods|k-cups)\b",
                            re.IGNORECASE)
_SIZE_UNITS = sorted((u for u, (family, _) in UNIT_TABLE.items() if family in ("mass", "volume")), key=len,
                     reverse=True)
_SIZE_PATTERN = re.compile(
    _NUMBER + r"\s*-?\s*(" + "|".join(re.escape(u).replace(r"\ ", r"\.?\s*") for u in _SIZE_UNITS) + r")s?\b\.?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CatalogFields:
    """The fields of one ``catalog_content`` text. Missing fields are empty strings or None."""

    item_name: str = ""
    bullet_points: tuple[str, ...] = ()
    description: str = ""
    value: float | None = None
    unit: str | None = None
    item_pack_quantity: float | None = None
    title_pack_count: int | None = None
    title_count: int | None = None
    title_size_value: float | None = None
    title_size_unit: str | None = None
    unparsed_value: str | None = field(default=None, compare=False)

    @property
    def pack_count(self) -> float:
        """Items per listing: Item Pack Quantity if given, else a pack count written in the title, else 1."""
        if self.item_pack_quantity and self.item_pack_quantity > 0:
            return self.item_pack_quantity
        if self.title_pack_count and self.title_pack_count > 0:
            return float(self.title_pack_count)
        return 1.0


def parse_number(text: str | None) -> float | None:
    """'72.0' -> 72.0, '1,000' -> 1000.0, '2,5' -> 2.5; anything else -> None."""
    if text is None:
        return None
    cleaned = str(text).strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def parse_catalog_content(text: object) -> CatalogFields:
    """Split one ``catalog_content`` block into its fields; never raises on any input."""
    if not isinstance(text, str) or not text.strip():
        return CatalogFields()
    fields: dict[str, list[str]] = {}
    bullets: list[list[str]] = []
    current: list[str] | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        match = _FIELD_LINE.match(line.strip())
        if match:
            key = _canonical_key(match.group(1))
            current = [match.group(2).strip()]
            if key == "bullet":
                bullets.append(current)
            else:
                fields.setdefault(key, current)
        elif current is not None and line.strip():
            current.append(line.strip())
    joined = {key: " ".join(part for part in parts if part).strip() for key, parts in fields.items()}
    joined = {key: value for key, value in joined.items() if value.lower() not in MISSING_MARKERS}
    if "item_name" not in joined and not bullets and not fields:
        joined["item_name"] = " ".join(text.split())
    item_name = joined.get("item_name", "")
    raw_value = joined.get("value")
    value = parse_number(raw_value)
    unit = joined.get("unit") or None
    pack_quantity = parse_number(joined.get("item_pack_quantity"))
    size_value, size_unit = title_size(item_name)
    return CatalogFields(
        item_name=item_name,
        bullet_points=tuple(text for text in (" ".join(b).strip() for b in bullets) if text),
        description=joined.get("description", ""),
        value=value,
        unit=unit,
        item_pack_quantity=pack_quantity,
        title_pack_count=title_pack_count(item_name),
        title_count=title_item_count(item_name),
        title_size_value=size_value,
        title_size_unit=size_unit,
        unparsed_value=raw_value if raw_value and value is None else None,
    )


def _canonical_key(key: str) -> str:
    lowered = key.lower()
    if lowered.startswith("bullet point"):
        return "bullet"
    return {"item name": "item_name", "product description": "description", "value": "value", "unit": "unit",
            "item pack quantity": "item_pack_quantity"}[" ".join(lowered.split())]


def title_pack_count(title: str) -> int | None:
    """A pack count written in a title: '(Pack of 6)', '2-Pack', 'Set of 3', '12 per case', '6 x 200 g'."""
    for pattern in _PACK_PATTERNS:
        match = pattern.search(title)
        if match:
            count = int(match.group(1))
            if count > 0:
                return count
    return None


def title_item_count(title: str) -> int | None:
    """An item count written in a title: '12 Count', '100 ct', '24 K-Cups'."""
    match = _COUNT_PATTERN.search(title)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def title_size(title: str) -> tuple[float | None, str | None]:
    """The first mass or volume size written in a title: '12 Ounce' -> (12.0, 'Ounce')."""
    match = _SIZE_PATTERN.search(title)
    if not match:
        return None, None
    return parse_number(match.group(1)), match.group(2)


@dataclass
class UnitReport:
    """How many rows fell into each unit family, and which unknown units were seen (kept, never dropped)."""

    families: Counter = field(default_factory=Counter)
    unknown_units: Counter = field(default_factory=Counter)
    unparsed_values: int = 0

    def summary(self) -> str:
        families = ", ".join(f"{k}={v}" for k, v in sorted(self.families.items()))
        unknown = ", ".join(f"{k!r}x{v}" for k, v in self.unknown_units.most_common(10))
        text = f"units: {families}"
        if unknown:
            text += f"; unknown units kept as-is: {unknown}"
        if self.unparsed_values:
            text += f"; {self.unparsed_values} non-numeric Value fields"
        return text


def parse_catalog_frame(texts: Iterable[object]) -> tuple[pd.DataFrame, UnitReport]:
    """Parse many ``catalog_content`` texts into a frame of fields and normalised quantities, plus a unit report.

    Columns: item_name, bullet_text, description, n_bullets, value, unit_raw, unit_family, unit_factor,
    quantity_base (value in the family's base unit), pack_count, title_count, title_size_base, text_length.
    """
    report = UnitReport()
    rows = []
    for text in texts:
        parsed = parse_catalog_content(text)
        unit = normalise_unit(parsed.unit)
        report.families[unit.family] += 1
        if unit.family == "unknown":
            report.unknown_units[str(parsed.unit).strip()] += 1
        report.unparsed_values += parsed.unparsed_value is not None
        size_unit = normalise_unit(parsed.title_size_unit) if parsed.title_size_unit else None
        rows.append({
            "item_name": parsed.item_name,
            "bullet_text": " ".join(parsed.bullet_points),
            "description": parsed.description,
            "n_bullets": len(parsed.bullet_points),
            "value": parsed.value,
            "unit_raw": parsed.unit,
            "unit_family": unit.family,
            "unit_factor": unit.factor,
            "quantity_base": parsed.value * unit.factor if parsed.value is not None and unit.factor else None,
            "pack_count": parsed.pack_count,
            "title_count": parsed.title_count,
            "title_size_base": (parsed.title_size_value * size_unit.factor
                                if size_unit and size_unit.factor and parsed.title_size_value else None),
            "text_length": len(text) if isinstance(text, str) else 0,
        })
    frame = pd.DataFrame(rows)
    for column in ("value", "unit_factor", "quantity_base", "pack_count", "title_count", "title_size_base"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    if report.unknown_units:
        log.info(report.summary())
    return frame, report
