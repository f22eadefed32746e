"""`python -m app …` / `rounds …`: db upgrade, seed, tokens create, clients, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from app.config import get_settings
from app.core.settings_check import startup_message

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(args: argparse.Namespace) -> int:
    from app.db.migrate import upgrade

    upgrade(revision=args.revision)
    print(f"database at {args.revision}", file=sys.stderr)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from app.seed import seed

    created = asyncio.run(seed(get_settings(), if_empty=args.if_empty, scale=args.scale))
    print(
        "seeded demo portfolio" if created else "database not empty; seed skipped", file=sys.stderr
    )
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from app.auth.principal import Role
    from app.auth.tokens import mint_token

    try:
        Role(args.role)
    except ValueError:
        print(
            f"unknown role {args.role!r}; one of: {', '.join(r.value for r in Role)}",
            file=sys.stderr,
        )
        return 2
    print(mint_token(get_settings(), sub=args.sub, role=args.role, name=args.name, ttl=args.ttl))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rounds", description="Rounds service commands")
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="cmd", required=True)
    up = db.add_parser("upgrade", help="apply migrations (alembic upgrade)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)

    seed = sub.add_parser("seed", help="load the demo portfolio")
    seed.add_argument("--if-empty", action="store_true", help="skip when products exist")
    seed.add_argument("--scale", type=int, default=1, help="multiply the volume (benchmarks)")
    seed.set_defaults(func=_seed)

    tokens = sub.add_parser("tokens", help="built-in issuer").add_subparsers(
        dest="cmd", required=True
    )
    tc = tokens.add_parser("create", help="mint a user token (prints only the token)")
    tc.add_argument("--sub", required=True)
    tc.add_argument("--role", required=True)
    tc.add_argument("--name")
    tc.add_argument("--ttl", type=int, default=3600)
    tc.set_defaults(func=_tokens_create)

    for register in _EXTENSIONS:
        register(sub)
    return parser


# Later command groups (clients, audit, keys) register here without touching the parser.
_EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = []


def _register_clients(sub: argparse._SubParsersAction) -> None:
    from app.auth.cli import register

    register(sub)


_EXTENSIONS.append(_register_clients)


def _register_keys(sub: argparse._SubParsersAction) -> None:
    from app.phi.rotation import register

    register(sub)


_EXTENSIONS.append(_register_keys)


def _register_audit(sub: argparse._SubParsersAction) -> None:
    from app.audit.cli import register

    register(sub)


_EXTENSIONS.append(_register_audit)


def _register_integrations(sub: argparse._SubParsersAction) -> None:
    from app.integrations.cli import register

    register(sub)


def _register_search(sub: argparse._SubParsersAction) -> None:
    from app.search.cli import register

    register(sub)


def _register_worker(sub: argparse._SubParsersAction) -> None:
    from app.feed.cli import register

    register(sub)


def _register_check(sub: argparse._SubParsersAction) -> None:
    from app.ops.check import register

    register(sub)


_EXTENSIONS.append(_register_integrations)
_EXTENSIONS.append(_register_check)
_EXTENSIONS.append(_register_worker)
_EXTENSIONS.append(_register_search)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:  # settings it cannot run with: one line each, no traceback
        print(startup_message(exc), file=sys.stderr)
        return 2
