"""One error hierarchy, rendered once as problem+json (REST) and extensions.code (GraphQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error a service may raise; never an HTTPException."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_USER_INPUT"
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        self.extra = extra or {}


class Invalid(AppError):
    status, code, title, slug = 422, "BAD_USER_INPUT", "Validation failed", "validation"


class MalformedRequest(AppError):
    status, code, title, slug = 400, "BAD_USER_INPUT", "Malformed request", "malformed"


class Unauthenticated(AppError):
    status, code, title, slug = 401, "UNAUTHENTICATED", "Unauthenticated", "unauthenticated"

    def __init__(self, detail: str = "A valid Bearer token is required.", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="rounds"'})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, code, title, slug = 403, "FORBIDDEN", "Forbidden", "forbidden"


class NotFound(AppError):
    status, code, title, slug = 404, "NOT_FOUND", "Not found", "not-found"


class Conflict(AppError):
    status, code, title, slug = 409, "CONFLICT", "Conflict", "conflict"


class PreconditionFailed(AppError):
    status, code, title, slug = 412, "CONFLICT", "Precondition failed", "precondition-failed"


class PayloadTooLarge(AppError):
    status, code, title, slug = 413, "BAD_USER_INPUT", "Payload too large", "payload-too-large"


class Unavailable(AppError):
    status, code, title, slug = 503, "UNAVAILABLE", "Service unavailable", "unavailable"


def problem(status: int, title: str, detail: str, *, slug: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": f"https://rounds.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def error_problem(exc: AppError) -> dict[str, Any]:
    return problem(exc.status, exc.title, exc.detail, slug=exc.slug, errors=exc.errors, **exc.extra)
