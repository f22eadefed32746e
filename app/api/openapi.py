"""OpenAPI post-processing: bearer security and problem+json error responses on every API
operation, so generated clients know both without each route repeating them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
}

ERRORS = {
    "400": "Malformed request (e.g. invalid JSON)",
    "401": "Missing, invalid or expired token",
    "403": "Readable, but the caller may not do this",
    "404": "Not found, or not readable by the caller",
    "409": "Conflict: duplicate key or illegal transition",
    "412": "If-Match does not match the current ETag",
    "413": "Body larger than the limit",
    "422": "Validation failed",
    "503": "Audit trail or database unavailable; nothing changed",
}


# app/phi/warnings.py: set on successful writes that redacted identifiers in free text.
PHI_REDACTED_HEADER: dict[str, Any] = {
    "description": "Comma-separated names of the free-text fields whose detected identifiers "
    "were redacted before storing (docs/phi.md); absent when nothing was redacted",
    "schema": {"type": "string"},
}

# Every REST POST accepts it (app/feed/idempotency.py, docs/change-feed.md).
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry-safe POST: the same key and body within 24 h replay the first "
    "response (Idempotent-Replayed: true); another body 422; still in flight 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = doc.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
        components["headers"] = {"PhiRedacted": PHI_REDACTED_HEADER}
        problem = {"$ref": "#/components/schemas/Problem"}
        for path, ops in doc.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            if "post" in ops:
                ops["post"].setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            for method, op in ops.items():
                op["security"] = [{"bearerAuth": []}]
                responses = op.setdefault("responses", {})
                if method in ("post", "patch"):
                    for code in ("200", "201"):
                        if code in responses:
                            responses[code].setdefault("headers", {})["PHI-Redacted"] = {
                                "$ref": "#/components/headers/PhiRedacted"
                            }
                # FastAPI's default 422 schema is not what we send: replace it.
                responses.pop("422", None)
                for code, description in ERRORS.items():
                    responses.setdefault(
                        code,
                        {
                            "description": description,
                            "content": {"application/problem+json": {"schema": problem}},
                        },
                    )
        schemas = components["schemas"]
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
