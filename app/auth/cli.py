"""`python -m app clients create|revoke|list`: service accounts (OAuth2 client credentials)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings

T = TypeVar("T")


async def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from app.db.session import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def _audit(
    session: AsyncSession, command: str, action: str, client: Any, changed: list[str]
) -> None:
    """Operator changes to service accounts are audited like API changes, in the same
    transaction as the change."""
    from app.audit.writer import append_event, operator_record

    record = operator_record(command)
    record.touch(action, "oauth_client", [client], changed=changed)
    await append_event(session, record, 200)


def _create(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from app.auth.oauth import create_client, normalize_scopes

    try:
        normalize_scopes(args.scopes)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not 1 <= len(args.name.strip()) <= 100:
        print("error: --name must be 1-100 characters", file=sys.stderr)
        return 2

    async def work(session: AsyncSession) -> dict[str, str]:
        issued = await create_client(session, name=args.name, scopes=args.scopes)
        await _audit(session, "clients create", "create", issued.client.id, ["name", "scopes"])
        return {"client_id": issued.client.client_id, "client_secret": issued.secret}

    out = asyncio.run(_in_session(settings or get_settings(), work))
    print(json.dumps(out))
    print("store the secret now; it is not shown again", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from app.auth.oauth import revoke_client

    async def work(session: AsyncSession) -> bool:
        revoked = await revoke_client(session, args.client_id)
        if revoked:
            await _audit(session, "clients revoke", "update", args.client_id, ["revoked_at"])
        return revoked

    if not asyncio.run(_in_session(settings or get_settings(), work)):
        print(f"error: no active client {args.client_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.client_id}; its tokens stop working now", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from app.auth.oauth import list_clients

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "client_id": c.client_id,
                "name": c.name,
                "scopes": c.scopes,
                "created_at": c.created_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in await list_clients(session)
        ]

    print(json.dumps(asyncio.run(_in_session(settings or get_settings(), work)), indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `clients` command group to the CLI."""
    from app.auth.principal import SCOPES

    clients = sub.add_parser("clients", help="service accounts (OAuth2 client credentials)")
    cmds = clients.add_subparsers(dest="cmd", required=True)

    create = cmds.add_parser(
        "create", help='register a client; prints {"client_id", "client_secret"} once'
    )
    create.add_argument("--name", required=True, help="e.g. jira-bot")
    create.add_argument(
        "--scopes", required=True, help=f"space-separated, from: {' '.join(SCOPES)}"
    )
    create.set_defaults(func=_create)

    revoke = cmds.add_parser("revoke", help="revoke a client; its existing tokens stop working")
    revoke.add_argument("client_id")
    revoke.set_defaults(func=_revoke)

    lst = cmds.add_parser("list", help="list clients (never secrets)")
    lst.set_defaults(func=_list)
