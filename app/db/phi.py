"""The column type of PHI-bearing text, kept in one place so encryption at rest wraps it."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class PhiText(TypeDecorator[str]):
    """Text that holds PHI (participant name/contact, transcript, summary, quote)."""

    impl = Text
    cache_ok = True
