"""`python -m app check`: the production self-check. Reads the settings the way the service
does and prints one line per setting to fix (exit 1), or `ok` (exit 0). It reuses the
Settings validation (the start-up refusals, Settings.operations_problems() included), which
lists every problem at once."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from app.config import Settings
from app.core.settings_check import problem_lines


def problems() -> tuple[list[str], Settings | None]:
    """Every problem of the environment's settings (empty when it may start): the start-up
    validation collects them all in one pass (app/core/settings_check.py)."""
    try:
        return [], Settings()
    except ValidationError as exc:
        return problem_lines(exc), None


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
