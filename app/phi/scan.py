"""Running the PHI detector from request handlers: off the event loop when the text is
large, and over the non-PHI free text of every resource before it is stored.

The detector is typed Python (compiled by mypyc where ``make install`` built it) and regular
expressions, CPU-bound at about 0.5 ms per kB: a 400 kB transcript would hold the event loop,
and every other request of the worker, for a fifth of a second or more. Texts above
``INLINE_CHARS`` therefore run in a worker thread, at most ``PHI_SCAN_WORKERS`` at a time per
process; the loop keeps serving meanwhile (the scan thread gives up the GIL between its regex
matches and Python calls). Short texts (titles, tags, one-line quotes) are scanned inline:
below that size a thread hop costs more than the scan.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from pydantic import BaseModel

from app.audit.record import AuditRecord
from app.config import Settings
from app.phi.detector import detect
from app.phi.fields import free_text, nested_free_text
from app.phi.redaction import Scan, scan_fields

INLINE_CHARS = 4096

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# One limiter per event loop (anyio limiters belong to the loop that made them).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter(workers: int) -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None or limiter.total_tokens != workers:
        limiter = CapacityLimiter(max(1, workers))
        _limiters[loop] = limiter
    return limiter


async def run_scan(settings: Settings, size: int, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` inline when the text is short, else in the PHI scan thread pool."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await anyio.to_thread.run_sync(
        partial(fn, *args), limiter=_limiter(settings.phi_scan_workers)
    )


async def scan_fields_async(
    settings: Settings, fields: Mapping[str, str | None], *, names: Sequence[str] = ()
) -> Scan:
    """`scan_fields` (redacted renditions and categories), off the loop when large."""
    size = sum(len(v) for v in fields.values() if v)
    return await run_scan(settings, size, partial(scan_fields, fields, names=names))


@lru_cache(maxsize=128)
def _max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """Field name -> the maxLength a string of it (or an item of a list of them) is
    validated against, from the model's JSON schema."""
    out: dict[str, int] = {}
    for name, prop in model.model_json_schema().get("properties", {}).items():
        for option in [prop, *prop.get("anyOf", [])]:
            limit = option.get("maxLength", option.get("items", {}).get("maxLength"))
            if isinstance(limit, int):
                out[name] = limit
                break
    return out


def _fit(new: str, original: str, limit: int | None) -> str:
    """A token can be longer than what it replaced ("Ed" -> "[NAME]"): keep the redacted
    text within the length the field is validated against (and the column holds)."""
    if len(new) <= len(original) or limit is None or len(new) <= limit:
        return new
    return new[: max(limit, len(original))]


def _redact_all(texts: list[str]) -> list[str]:
    return [detect(t).redacted for t in texts]


async def redact_free_text(
    settings: Settings, audit: AuditRecord, resource: str, data: M, *, prefix: str = ""
) -> M:
    """`data` (a request body) with detected identifiers redacted in its FREE_TEXT fields
    (app/phi/fields.py) that the client set; the names of the fields that changed are added
    to the request's `phi_redacted` warning. No participant names are matched here: the
    answer must not depend on who an interview was with (docs/phi.md, name oracle)."""
    top = free_text(resource, prefix)
    nested = nested_free_text(resource) if not prefix else {}
    texts: list[str] = []
    # field path, container (updates dict, list or nested model), index, attribute, limit
    where: list[tuple[str, Any, int, str | None, int | None]] = []
    limits = _max_lengths(type(data))
    updates: dict[str, Any] = {}
    for name in (n for n in type(data).model_fields if n in data.model_fields_set):
        value = getattr(data, name)
        if value is None:
            continue
        if name in top:
            if isinstance(value, str):
                updates[name] = value
                texts.append(value)
                where.append((name, updates, -1, name, limits.get(name)))
            elif isinstance(value, list):
                items = list(value)
                updates[name] = items
                for i, v in enumerate(items):
                    if isinstance(v, str):
                        texts.append(v)
                        where.append((name, items, i, None, limits.get(name)))
        elif name in nested and isinstance(value, list):
            items = [v.model_copy() if isinstance(v, BaseModel) else v for v in value]
            updates[name] = items
            for item in items:
                inner = _max_lengths(type(item)) if isinstance(item, BaseModel) else {}
                for child in nested[name]:
                    v = getattr(item, child, None)
                    if isinstance(v, str):
                        texts.append(v)
                        where.append((f"{name}.{child}", item, -1, child, inner.get(child)))
    if not texts:
        return data
    redacted = await run_scan(settings, sum(map(len, texts)), _redact_all, texts)
    changed: list[str] = []
    for original, new, (path, container, index, attr, limit) in zip(
        texts, redacted, where, strict=True
    ):
        if new == original:
            continue
        new = _fit(new, original, limit)
        if isinstance(container, dict):
            container[attr] = new
        elif isinstance(container, list):
            container[index] = new
        else:
            assert attr is not None  # a nested model copy: `where` names its attribute
            setattr(container, attr, new)
        if path not in changed:
            changed.append(path)
    if not changed:
        return data
    audit.redacted(prefix + p for p in changed)
    return data.model_copy(update=updates)
