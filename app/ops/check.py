"""`python -m app check`: the production self-check. Reads the settings the way the service
does and prints one line per setting to fix (exit 1), or `ok` (exit 0). It reuses the
Settings validation (the start-up refusals) and Settings.operations_problems(), and lists
every problem at once rather than stopping at the first refusal."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from app.config import Settings


def problems() -> tuple[list[str], Settings | None]:
    """Every problem of the environment's settings (empty when it may start)."""
    found: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings()
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            loc = ".".join(str(p).upper() for p in err.get("loc", ()))
            for part in msg.split("\n"):
                if part and not part.endswith(":"):
                    found.append(f"{loc}: {part}" if loc else part)
    if settings is None:
        # The validators stop at the first refusal; the operations checks run on a copy
        # that skipped them, so every setting to fix is listed in one run.
        try:
            environment = Settings.model_fields["environment"]
            unchecked = Settings(environment="development")
            unchecked = unchecked.model_copy(update={"environment": _env_environment(environment)})
            for line in unchecked.operations_problems():
                if not any(line in f for f in found):
                    found.append(line)
        except ValidationError:
            pass
    return found, settings


def _env_environment(_field: object) -> str:
    import os

    return os.environ.get("ENVIRONMENT", "development").strip().lower() or "development"


def _cmd_check(args: argparse.Namespace) -> int:
    found, settings = problems()
    if found:
        for line in found:
            print(line)
        print(f"{len(found)} setting(s) to fix", file=sys.stderr)
        return 1
    env = settings.environment if settings else "?"
    print(f"ok ({env})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "check", help="production self-check: one line per setting to fix (exit 1), or ok"
    ).set_defaults(func=_cmd_check)
