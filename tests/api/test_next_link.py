"""The next page's Link target: built from the parsed query parameters (app.api.responses
next_link), byte for byte what Starlette's `URL.include_query_params(cursor=…)` builds."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from app.api.responses import next_link

QUERIES = [
    b"",
    b"limit=50",
    b"cursor=old&limit=5",
    b"a=1&cursor=x&a=2&b=%2C%20+y&fields=id,title",
    b"x=&y&cursor=",
    b"q=%C3%A9t%C3%A9&z=%00&sort=-rank",
    b"product_id=SEPS&cursor=a&cursor=b&labels=a%26b%3Dc",
]


def _request(query: bytes, base: str | None = None) -> Request:
    state = SimpleNamespace(settings=SimpleNamespace(public_base_url=base))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("rounds", 80),
            "root_path": "",
            "path": "/api/v1/stories",
            "query_string": query,
            "headers": [(b"host", b"rounds")],
            "app": SimpleNamespace(state=state),
        }
    )


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("cursor", ["eyJrIjpbMV19", "a+b/c=", "ünïcode&x=1"])
def test_next_link_is_what_starlette_builds(query: bytes, cursor: str) -> None:
    url = _request(query).url.include_query_params(cursor=cursor)
    assert next_link(_request(query), cursor) == f"{url.path}?{url.query}"


def test_next_link_under_public_base_url() -> None:
    link = next_link(_request(b"limit=2", "https://api.example.org/"), "c1")
    assert link == "https://api.example.org/api/v1/stories?limit=2&cursor=c1"
