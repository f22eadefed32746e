"""The route template a request matched (`/api/v1/stories/{story_ref}`), from public
Starlette scope keys only: what metrics, logs and the audit trail name instead of the raw
path (which may carry ids or, on an unmatched route, anything a caller typed).

`scope["route"]` is the matched route as its router declared it, without the prefixes of the
routers it was included into; the prefix is recovered from the raw path, whose end is that
route's path with the path parameters filled in (our router prefixes are literal)."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import Scope

UNMATCHED = "<unmatched>"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


def route_template(scope: Scope) -> str:
    """The full template of the matched route, or UNMATCHED."""
    route = scope.get("route")
    own = getattr(route, "path", None)
    if not isinstance(own, str) or not own:
        return UNMATCHED
    path: str = scope.get("path", "")
    if path == own:
        return own
    params = scope.get("path_params") or {}
    try:
        rendered = _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), own)
    except KeyError:
        return UNMATCHED
    if not path.endswith(rendered):
        return UNMATCHED
    prefix = path[: len(path) - len(rendered)] if rendered else path
    return prefix + own


def fill_template(template: str, scope: Scope, keep: re.Pattern[str]) -> str:
    """`template` with each path parameter whose value fully matches `keep` filled in; the
    others stay placeholders."""
    params = scope.get("path_params") or {}

    def fill(m: re.Match[str]) -> str:
        value = params.get(m.group(1))
        text = str(value) if value is not None else ""
        return text if keep.fullmatch(text) else "{" + m.group(1) + "}"

    return _PLACEHOLDER.sub(fill, template)


def declared_template(scope: Scope) -> str:
    """For a request refused before routing ran (413 on the body size, 400 on a NUL, …): the
    template of the documented operation its path matches, or UNMATCHED. Built once per app
    from its OpenAPI paths; only such early refusals pay for it."""
    app: Any = scope.get("app")
    state = getattr(app, "state", None)
    if state is None or not hasattr(app, "openapi"):
        return UNMATCHED
    table = getattr(state, "route_templates", None)
    if table is None:
        table = []
        try:
            paths = app.openapi().get("paths", {})
        except Exception:
            paths = {}
        for template in paths:
            pattern = _PLACEHOLDER.sub(
                lambda _: "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            )
            table.append((re.compile(pattern), template))
        state.route_templates = table
    path = scope.get("path", "")
    for pattern, template in table:
        if pattern.fullmatch(path):
            return template
    return UNMATCHED
