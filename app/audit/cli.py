"""`python -m app audit verify|seal`: the audit chain from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

import orjson
from tqdm import tqdm

from app.config import get_settings


async def _verify(progress: Callable[[int], object] | None = None) -> dict:
    from app.audit.checkpoint import Checkpoints
    from app.audit.sealer import seal_all
    from app.audit.service import verify_against_checkpoint
    from app.db.session import create_engine, create_sessionmaker

    settings = get_settings()
    engine = create_engine(settings)
    try:
        await seal_all(engine, wait=True)
        async with create_sessionmaker(engine)() as session:
            return dict(
                await verify_against_checkpoint(session, Checkpoints(settings), progress=progress)
            )
    finally:
        await engine.dispose()


async def _seal() -> int:
    from app.audit.sealer import seal_all
    from app.db.session import create_engine

    engine = create_engine(get_settings())
    try:
        return await seal_all(engine, wait=True)
    finally:
        await engine.dispose()


def _cmd_verify(args: argparse.Namespace) -> int:
    with tqdm(desc="verifying", unit=" events", file=sys.stderr) as bar:
        result = asyncio.run(_verify(bar.update))
    print(orjson.dumps(result).decode())
    return 0 if result["ok"] else 1


def _cmd_seal(args: argparse.Namespace) -> int:
    print(f"sealed {asyncio.run(_seal())} events", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="cmd", required=True)
    audit.add_parser(
        "verify", help="seal queued events, verify the hash chain (exit 1 if broken)"
    ).set_defaults(func=_cmd_verify)
    audit.add_parser("seal", help="chain all queued audit events now").set_defaults(func=_cmd_seal)
