"""JSON log lines (structlog over the standard library): one line per request on
`rounds.access`, and every other `rounds.*` record (audit failures, …) in the same format,
carrying the request_id of the request it happened in (structlog contextvars)."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from app.config import Settings

_configured = False

SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _exception_type_only(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Exceptions as their type only: messages of database errors quote parameters (PHI)."""
    exc = event.pop("exc_info", None)
    if exc:
        if exc is True:
            exc = sys.exc_info()
        kind = type(exc) if isinstance(exc, BaseException) else exc[0]
        if kind is not None:
            event["exc_type"] = kind.__name__
    event.pop("stack", None)
    return event


def json_formatter() -> logging.Formatter:
    """The formatter of Rounds' log handler: one JSON object per line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _exception_type_only,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_logging(settings: Settings) -> None:
    """Once per process: structlog renders through stdlib logging; the `rounds` logger gets a
    JSON handler on stderr (records still propagate, so test capture keeps working)."""
    global _configured
    if _configured:
        return
    _configured = True
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.set_name("rounds-json")
    root = logging.getLogger("rounds")
    if not any(h.get_name() == "rounds-json" for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())


class _StderrLines:
    """structlog's output for the access log: one line per call to the process's current
    stderr (looked up per call, so test capture and redirection see it)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    info = msg


def _orjson_str(obj: object, **_: object) -> str:
    return orjson.dumps(obj).decode()


# The access log is on every request's path, so it skips the stdlib logging machinery
# (LogRecord, handler locks, formatter: ~100 µs) and renders straight to JSON (~10 µs).
access_log = structlog.wrap_logger(
    _StderrLines(),
    processors=[
        lambda _l, _m, event: {**event, "logger": "rounds.access"},
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(serializer=_orjson_str),
    ],
    wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    cache_logger_on_first_use=True,
)
