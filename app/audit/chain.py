"""The tamper-evident hash chain over audit events: canonical form, link hash, verify().

Each sealed event gets a chain row `(seq, event_id, prev_hash, hash)` with
`hash = sha256(prev_hash ‖ canonical(event))`, `prev_hash` of seq 1 being 64 zeros. The
canonical form is version 1: the fields in CANONICAL_FIELDS as JSON with sorted keys, no
whitespace, UUIDs as text and `occurred_at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Seq, prev_hash
and hash are not part of it (they are the chain, not the event). A column added to
audit_event later is not hashed until a new canonical version says so.

Version 1 extension: OPTIONAL_FIELDS join the canonical form only when not null, so every
event written before they existed (all null) keeps its hash, and new events hash them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository

if TYPE_CHECKING:
    from app.audit.checkpoint import Checkpoint

GENESIS = "0" * 64

CANONICAL_FIELDS = (
    "id",
    "occurred_at",
    "actor_sub",
    "actor_role",
    "actor_type",
    "client_id",
    "action",
    "resource_type",
    "resource_ids",
    "product_id",
    "phi_accessed",
    "changed_fields",
    "outcome",
    "http_method",
    "path",
    "status_code",
    "request_id",
    "source_ip",
    "user_agent",
    "graphql_operation",
)


# Hashed when present (see the module docstring).
OPTIONAL_FIELDS = ("client_request_id",)


class VerifyResult(TypedDict):
    ok: bool
    checked: int
    first_bad_seq: int | None
    # The seq of the signed checkpoint the chain was compared with (None: no checkpoint).
    checkpoint_seq: int | None


def plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(event: Mapping[Any, Any]) -> bytes:
    """Deterministic bytes of one event (a row mapping or dict with CANONICAL_FIELDS)."""
    fields = {name: event[name] for name in CANONICAL_FIELDS}
    for name in OPTIONAL_FIELDS:
        if event.get(name) is not None:
            fields[name] = event[name]
    # Only these two are not JSON-native in version 1 (the rest are text, numbers, booleans
    # and lists of text); anything else unexpected still goes through plain().
    fields["id"] = plain(fields["id"])
    fields["occurred_at"] = plain(fields["occurred_at"])
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=_strict_plain)


def _strict_plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's UUID subclass, which orjson hands over
        return str(value)
    raise TypeError(f"{type(value).__name__} is not in the canonical form")


def link_hash(prev_hash: str, event: Mapping[Any, Any]) -> str:
    """sha256(prev_hash ‖ canonical(event)) as lowercase hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(event)).hexdigest()


async def verify(
    session: AsyncSession,
    *,
    batch: int = 2000,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[int], object] | None = None,
) -> VerifyResult:
    """Recompute the chain in seq order; report the first seq that does not hold."""
    result, _ = await verify_with_head(
        session, batch=batch, checkpoint=checkpoint, progress=progress
    )
    return result


async def verify_with_head(
    session: AsyncSession,
    *,
    batch: int = 2000,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[VerifyResult, tuple[int, str] | None]:
    """verify(), plus the head `(seq, hash)` it verified (None for an empty chain).

    Detects an altered event or chain row (hash mismatch), a removed chain row (seq gap),
    a removed event (chain row without its event), rows moved to another position (the
    prev_hash link breaks), and a chain row removed at the tail while its event remains
    (an event neither chained nor pending: reported as the seq after the last one).

    With a `checkpoint` (app/audit/checkpoint.py), also a truncated tail: when the chain ends
    before the checkpoint's seq, first_bad_seq is the first missing seq; when the row at the
    checkpoint's seq has another hash (the tail was cut and new events took the freed seq
    numbers), first_bad_seq is the checkpoint's seq (the cut is at or before it)."""
    expected_seq, prev, checked = 1, GENESIS, 0
    cp_seq = checkpoint.seq if checkpoint else None

    def result(ok: bool, bad: int | None) -> VerifyResult:
        return {"ok": ok, "checked": checked, "first_bad_seq": bad, "checkpoint_seq": cp_seq}

    while True:
        rows = await repository.chain_slice(session, after_seq=expected_seq - 1, limit=batch)
        if not rows:
            break
        for row in rows:
            m = row._mapping
            if (
                m["seq"] != expected_seq
                or m["id"] is None
                or m["prev_hash"] != prev
                or link_hash(prev, m) != m["hash"]
            ):
                return result(False, expected_seq), None
            if (
                checkpoint is not None
                and m["seq"] == checkpoint.seq
                and m["hash"] != checkpoint.hash
            ):
                return result(False, checkpoint.seq), None
            prev = m["hash"]
            expected_seq += 1
            checked += 1
        if progress is not None:
            progress(len(rows))
        if len(rows) < batch:
            break
    if await repository.unchained_unqueued_exists(session):
        return result(False, expected_seq), None
    if checkpoint is not None and checked < checkpoint.seq:
        return result(False, checked + 1), None
    return result(True, None), ((checked, prev) if checked else None)
