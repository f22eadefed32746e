"""Key rotation: re-encrypt every stored PHI value with the current key, in batches.

`python -m app keys rotate` (development: a new key is generated into var/phi-keys first;
production: the operator has put the new key first in PHI_KEYS) and `python -m app keys list`.
Values are rewritten with plain SQL on the raw columns, so `updated_at`/`version` (ETags) do
not move: rotation changes how a value is stored, not the value.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Column, Table, and_, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from app.config import Settings, get_settings
from app.db.phi import PhiText
from app.phi.crypto import (
    FileKeyring,
    KeyConfigError,
    Keyring,
    PhiKeyError,
    is_envelope,
    keyring_for,
    new_key,
)

BATCH_SIZE = 500


@dataclass
class RotationReport:
    current: str
    # per "table.column": re-encrypted / already current / plaintext encrypted / unreadable
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return sum(c[kind] for c in self.counts.values())

    @property
    def ok(self) -> bool:
        return self.total("unreadable") == 0


def phi_columns() -> dict[str, list[Column]]:
    """Every PhiText column of the schema, by table name."""
    import app.db.models  # noqa: F401 - registers every model on the metadata
    from app.db.base import Base

    out: dict[str, list[Column]] = {}
    for t in Base.metadata.sorted_tables:
        cols = [c for c in t.columns if isinstance(c.type, PhiText)]
        if cols:
            out[t.name] = cols
    return out


async def _reencrypt_table(
    engine: AsyncEngine,
    ring: Keyring,
    model: Table,
    cols: list[Column],
    report: RotationReport,
    batch_size: int,
    progress: Callable[[int], object] | None = None,
) -> None:
    # A lightweight table with the PHI columns as plain text: no decryption on read, no
    # onupdate defaults on write.
    pk = model.c.id
    raw = table(model.name, column("id", pk.type), *(column(c.name) for c in cols))
    for c in cols:
        report.counts.setdefault(f"{model.name}.{c.name}", Counter())
    after = None
    while True:
        stmt = select(raw).order_by(raw.c.id).limit(batch_size)
        if after is not None:
            stmt = stmt.where(raw.c.id > after)
        async with engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
            for r in rows:
                for c in cols:
                    stored = getattr(r, c.name)
                    if stored is None:
                        continue
                    counts = report.counts[f"{model.name}.{c.name}"]
                    if ring.is_current(stored):
                        counts["current"] += 1
                        continue
                    context = cast(PhiText, c.type).context  # cols are PhiText columns
                    try:
                        plain = ring.decrypt(stored, context=context)
                    except PhiKeyError:
                        counts["unreadable"] += 1
                        continue
                    fresh = ring.encrypt(plain, context=context)
                    # Compare-and-set: a value the application rewrote meanwhile is left alone.
                    done = await conn.execute(
                        update(raw)
                        .where(and_(raw.c.id == r.id, raw.c[c.name] == stored))
                        .values({c.name: fresh})
                    )
                    if done.rowcount:
                        counts["reencrypted" if is_envelope(stored) else "encrypted"] += 1
                    else:
                        counts["changed_meanwhile"] += 1
        if progress is not None:
            progress(len(rows))
        if len(rows) < batch_size:
            return
        after = rows[-1].id


async def reencrypt(
    engine: AsyncEngine,
    ring: Keyring,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> RotationReport:
    """Rewrite every PHI value not under the keyring's current key (one transaction per
    batch, so a long rotation never holds locks on the whole table and can be resumed)."""
    report = RotationReport(current=ring.current)
    for cols in phi_columns().values():
        model = cols[0].table
        await _reencrypt_table(engine, ring, model, cols, report, batch_size, progress)
    return report


async def rotate(
    settings: Settings,
    *,
    new: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> RotationReport:
    """Development: add a new current key to var/phi-keys (unless `new` is false);
    production: PHI_KEYS decides. Then re-encrypt everything with the current key."""
    from app.db.session import create_engine

    ring = keyring_for(settings)
    if new and isinstance(ring, FileKeyring):
        ring.add_current(*new_key())
    engine = create_engine(settings)
    try:
        report = await reencrypt(engine, ring, batch_size=batch_size, progress=progress)
        await _audit_rotation(engine, report)
        return report
    finally:
        await engine.dispose()


async def _audit_rotation(engine: AsyncEngine, report: RotationReport) -> None:
    """The rotation is an operator action on PHI storage: audited (key id and column names
    only; no values), after the batches it describes have committed."""
    from app.audit.writer import append_event, operator_record
    from app.db.session import create_sessionmaker

    record = operator_record("keys rotate")
    record.touch("update", "phi_key", [report.current], changed=sorted(report.counts))
    async with create_sessionmaker(engine)() as session:
        await append_event(session, record, 200 if report.ok else 500)
        await session.commit()


# --------------------------------------------------------------------------- CLI


def _print_report(report: RotationReport) -> None:
    print(f"current key: {report.current}")
    kinds = ("reencrypted", "encrypted", "current", "changed_meanwhile", "unreadable")
    for name, counts in report.counts.items():
        print(f"  {name}: " + ", ".join(f"{k}={counts[k]}" for k in kinds))
    print("total: " + ", ".join(f"{k}={report.total(k)}" for k in kinds))


def _keys_rotate(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        ring = keyring_for(settings)
    except KeyConfigError as exc:
        print(f"PHI keys: {exc}", file=sys.stderr)
        return 2
    if settings.phi_keys:
        print(
            f"using PHI_KEYS; current key {ring.current} (put a new key first to rotate)",
            file=sys.stderr,
        )
    elif not args.reencrypt_only:
        print("generating a new development key in var/phi-keys", file=sys.stderr)
    with tqdm(desc="re-encrypting", unit=" rows", file=sys.stderr) as bar:
        report = asyncio.run(
            rotate(
                settings,
                new=not args.reencrypt_only,
                batch_size=args.batch_size,
                progress=bar.update,
            )
        )
    _print_report(report)
    if not report.ok:
        print("some values could not be decrypted with any configured key", file=sys.stderr)
        return 1
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    try:
        ring = keyring_for(get_settings())
    except KeyConfigError as exc:
        print(f"PHI keys: {exc}", file=sys.stderr)
        return 2
    for i, kid in enumerate(ring.kids):
        print(f"{kid}\tcurrent" if i == 0 else kid)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """`keys rotate` and `keys list` (key ids only, never key material)."""
    keys = sub.add_parser("keys", help="PHI encryption keys").add_subparsers(
        dest="cmd", required=True
    )
    rot = keys.add_parser("rotate", help="re-encrypt all PHI with a new current key")
    rot.add_argument(
        "--reencrypt-only",
        action="store_true",
        help="do not generate a development key; re-encrypt with the current one",
    )
    rot.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="rows per transaction (default: %(default)s)",
    )
    rot.set_defaults(func=_keys_rotate)
    ls = keys.add_parser("list", help="print key ids, current first")
    ls.set_defaults(func=_keys_list)
