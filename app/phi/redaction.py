"""Applying the detector to a record's free-text fields on write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.phi.detector import detect


@dataclass(frozen=True, slots=True)
class Scan:
    redacted: dict[str, str | None]
    categories: tuple[str, ...]

    @property
    def detected(self) -> bool:
        return bool(self.categories)


def scan_fields(fields: Mapping[str, str | None], *, names: Sequence[str] = ()) -> Scan:
    """Redacted rendition of each field, and the union of PHI categories found."""
    known = [n for n in names if n]
    redacted: dict[str, str | None] = {}
    categories: set[str] = set()
    for name, value in fields.items():
        if value is None:
            redacted[name] = None
            continue
        result = detect(value, names=known)
        redacted[name] = result.redacted
        categories.update(result.categories)
    return Scan(redacted, tuple(sorted(categories)))
