"""`python -m app worker`: webhook delivery outside the web processes."""

from __future__ import annotations

import argparse
import asyncio
import logging


def _worker(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from app.feed.worker import run_standalone

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run_standalone(get_settings()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="deliver webhooks until SIGTERM (any number may run)")
    w.set_defaults(func=_worker)
