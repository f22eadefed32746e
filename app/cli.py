"""`python -m app …` / `rounds …`: db upgrade, seed, tokens create, clients, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from app.config import get_settings
from app.core.settings_check import startup_message

Handler = Callable[[argparse.Namespace], int]
# SPEC §2's roles (app.auth.principal.Role), listed here so --help needs no imports.
ROLES = ("product_manager", "engineer", "clinician", "exec", "compliance_officer", "admin")


def _db_upgrade(args: argparse.Namespace) -> int:
    from app.db.migrate import upgrade

    upgrade(revision=args.revision)
    print(f"database at {args.revision}", file=sys.stderr)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from app.seed import seed

    # Always checked: seeding a database that has products would collide with their keys.
    created = asyncio.run(seed(get_settings(), if_empty=True, scale=args.scale))
    if created:
        print("seeded demo portfolio", file=sys.stderr)
        return 0
    print(
        "database not empty (it has products); seed skipped: it loads into an empty database",
        file=sys.stderr,
    )
    return 0 if args.if_empty else 1


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
    parser = argparse.ArgumentParser(
        prog="rounds",
        description="Rounds service commands (settings from the environment, see README).",
    )
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="cmd", required=True)
    up = db.add_parser("upgrade", help="apply migrations (alembic upgrade)")
    up.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    up.set_defaults(func=_db_upgrade)

    seed = sub.add_parser("seed", help="load the demo portfolio")
    seed.add_argument(
        "--if-empty", action="store_true", help="exit 0 (not 1) when products exist already"
    )
    seed.add_argument("--scale", type=int, default=1, help="multiply the volume (benchmarks)")
    seed.set_defaults(func=_seed)

    tokens = sub.add_parser("tokens", help="built-in issuer").add_subparsers(
        dest="cmd", required=True
    )
    tc = tokens.add_parser("create", help="mint a user token (prints only the token)")
    tc.add_argument("--sub", required=True, help="the person's subject, e.g. alice")
    tc.add_argument(
        "--role", required=True, choices=ROLES, metavar="ROLE", help="one of: " + ", ".join(ROLES)
    )
    tc.add_argument("--name", help="display name (optional)")
    tc.add_argument(
        "--ttl", type=int, default=3600, help="lifetime in seconds (default: %(default)s)"
    )
    tc.set_defaults(func=_tokens_create)

    for module in _EXTENSIONS:
        # Imported only when the parser is built: each group's imports stay off the others.
        importlib.import_module(module).register(sub)
    return parser


# Command groups that live beside their domain: each module has `register(subparsers)`.
_EXTENSIONS = (
    "app.auth.cli",  # clients
    "app.phi.rotation",  # keys
    "app.audit.cli",  # audit
    "app.integrations.cli",  # integrations
    "app.search.cli",  # search
    "app.ops.check",  # check
    "app.feed.cli",  # worker
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:  # settings it cannot run with: one line each, no traceback
        print(startup_message(exc), file=sys.stderr)
        return 2
