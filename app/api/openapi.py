"""OpenAPI post-processing: bearer security and problem+json error responses on every API
operation, the response headers Rounds sends (ETag, Link, Location, X-Request-Id), servers,
tags, contact and licence, so generated clients and linters know them without each route
repeating them."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from app.api.fields import document_fields
from app.api.params import query_models

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
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}

TAGS = {
    "products": "Products: the AI products a team builds, with their regulatory profile.",
    "roadmap": "Roadmap items with RICE scores, exec approvals and their history.",
    "stories": "User stories: backlog order, workflow, Gherkin criteria, clinical review.",
    "interviews": "Research interviews (PHI-bearing; redacted unless the caller may see PHI).",
    "insights": "Findings from interviews, linked as evidence to stories and roadmap items.",
    "members": "Product membership and the calling principal.",
    "audit": "The tamper-evident audit trail (compliance officers).",
    "auth": "Token issuing (OAuth 2.0 client credentials) and the issuer's public keys.",
    "health": "Liveness and readiness probes.",
    "search": "Full-text search over what the caller may read (redacted text only).",
    "comments": "Comments on stories and roadmap items (PHI-scanned, stored redacted).",
    "activity": "A product's activity stream: who changed what, when (field names only).",
    "webhooks": "Signed outbound webhooks for the change feed, and their delivery log.",
    "integrations": "Jira webhook sync and the Slack app (signed requests, linked accounts).",
}

HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "The resource's version; send it back in If-Match to update safely.",
        "schema": {"type": "string", "example": 'W/"3"'},
    },
    "Link": {
        "description": 'RFC 8288 link to the next page: <url>; rel="next" (absent on the last).',
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Path of the created resource.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "X-Request-Id": {
        "description": "The request's id (the client's X-Request-Id if well formed); also in "
        "the audit trail and the logs.",
        "schema": {"type": "string"},
    },
}

JWKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "JWKS",
    "description": "RFC 7517 JSON Web Key Set: the public keys that verify Rounds' tokens.",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {
                    "kty": {"type": "string", "example": "RSA"},
                    "kid": {"type": "string"},
                    "use": {"type": "string", "example": "sig"},
                    "alg": {"type": "string", "example": "RS256"},
                    "n": {"type": "string", "description": "RSA modulus, base64url"},
                    "e": {"type": "string", "description": "RSA exponent, base64url"},
                },
            },
        }
    },
}

REPO_URL = "https://rounds.dev/docs/api-guide"
# No bearer token: probes, keys, the token endpoint, and the integrations that Jira and Slack
# call with their own signatures (SPEC §9).
PUBLIC_PATHS = (
    "/health/",
    "/.well-known/",
    "/oauth/",
    "/api/v1/integrations/jira/webhook",
    "/api/v1/integrations/slack/commands",
    "/api/v1/integrations/slack/interactions",
    "/api/v1/integrations/slack/events",
)


# 201s without a Location: a Slack link has no URL of its own (linking again replaces it).
NO_LOCATION = frozenset({"/api/v1/integrations/slack/links"})


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _schema_of(response: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else {}


def _document_headers(doc: dict[str, Any]) -> None:
    """Each response names the headers Rounds sends with it."""
    schemas = doc["components"]["schemas"]
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            for code, response in op.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers["X-Request-Id"] = _ref("X-Request-Id")
                if not code.startswith("2"):
                    continue
                props = _schema_of(response, schemas).get("properties", {})
                if "version" in props:
                    headers["ETag"] = _ref("ETag")
                if "next_cursor" in props:
                    headers["Link"] = _ref("Link")
                if code == "201" and path not in NO_LOCATION:
                    headers["Location"] = _ref("Location")


@lru_cache(maxsize=64)
def _query_model_doc(model: type[BaseModel]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The parameters FastAPI publishes for `Annotated[model, Query()]`, and the component
    schemas they refer to: written by FastAPI itself, for one operation declaring exactly
    that, so a `query_model` operation is documented as a FastAPI query model would be."""

    async def operation(params: Any) -> None:  # pragma: no cover - never called
        return None

    param = inspect.Parameter(
        "params", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Query()]
    )
    operation.__signature__ = inspect.Signature([param])  # type: ignore[attr-defined]
    router = APIRouter()
    router.add_api_route("/", operation, methods=["GET"])
    doc = get_openapi(title="", version="", routes=router.routes)
    return doc["paths"]["/"]["get"].get("parameters", []), doc.get("components", {})


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


# The keys FastAPI writes before an operation's parameters (fastapi.openapi.utils).
_BEFORE_PARAMETERS = ("tags", "summary", "description", "operationId", "deprecated")


def document_query_models(doc: dict[str, Any], routes: list[Any]) -> None:
    """Publish the members of each operation's `query_model` (app.api.params) as FastAPI
    publishes a query parameter model: its parameters after the operation's path and query
    parameters, the schemas they refer to among the components."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for route in iter_route_contexts(routes):  # FastAPI's own walk of the included routers
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        models = list(query_models(route.dependant))
        if not models:
            continue
        for method in route.methods or ():
            op = doc["paths"][route.path_format][method.lower()]
            params = list(op.get("parameters", []))
            at = sum(1 for p in params if p.get("in") in ("path", "query"))
            for model in models:
                # Copies: later steps (document_fields) change the document in place.
                added, components = copy.deepcopy(_query_model_doc(model))
                for name in set(_refs(added)):
                    schema = components["schemas"][name]
                    if schemas.setdefault(name, schema) != schema:
                        raise RuntimeError(f"{model.__name__}: another schema named {name}")
                params[at:at] = added
                at += len(added)
            if "parameters" in op:
                op["parameters"] = params
            else:  # where FastAPI would have written it, so the document's bytes are its own
                keys = list(op)
                cut = sum(1 for k in keys if k in _BEFORE_PARAMETERS)
                rest = {k: op.pop(k) for k in keys[cut:]}
                op["parameters"] = params
                op.update(rest)


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        document_query_models(doc, app.routes)
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
        schemas["JWKS"] = JWKS_SCHEMA
        components["headers"] = {**components.get("headers", {}), **HEADERS}
        for path, ops in doc.get("paths", {}).items():
            if path.startswith(PUBLIC_PATHS):
                for op in ops.values():
                    op["security"] = []  # no token needed
        jwks = doc["paths"]["/.well-known/jwks.json"]["get"]["responses"]["200"]
        jwks["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/JWKS"}}}
        _document_headers(doc)
        document_fields(doc)
        doc["servers"] = [{"url": "http://127.0.0.1:8000", "description": "make run"}]
        used = {
            t for ops in doc["paths"].values() for op in ops.values() for t in op.get("tags", [])
        }
        doc["tags"] = [{"name": t, "description": d} for t, d in TAGS.items() if t in used]
        doc["info"]["contact"] = {"name": "Rounds maintainers", "url": REPO_URL}
        doc["info"]["license"] = {"name": "Proprietary", "url": f"{REPO_URL}#licence"}
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented override
