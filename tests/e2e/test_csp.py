"""The explorer pages' Content-Security-Policy (app/ops/observe.py) in a real headless
Chromium: GraphiQL renders and runs with the CSP enforced, and the browser reports no
violation. (/docs renders in Chromium in tests/e2e/test_graphiql.py; its CSP header is checked in
tests/ops/test_headers_cors.py.)"""

from __future__ import annotations

import pytest

from app.auth.tokens import mint_token
from tests.e2e.test_graphiql import chromium_page, server  # noqa: F401 - fixture reused

pytestmark = pytest.mark.e2e


def test_graphiql_works_under_its_csp(server, tmp_path):  # noqa: F811
    base, settings = server
    token = mint_token(settings, sub="e2e-csp", role="engineer")
    violations: list[str] = []
    with chromium_page(tmp_path) as page:
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) =>"
            " console.error('Content Security Policy violation: ' + e.violatedDirective))"
        )
        response = page.goto(base + "/graphql", wait_until="load")
        assert response is not None and response.status == 200
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self' 'sha256-" in csp
        # GraphiQL starts once a token is given (the token field, app/graphql/explorer.py).
        page.fill("#token", token)
        page.click("#use-token")
        page.wait_for_selector(".graphiql-container", timeout=30_000)
        page.wait_for_timeout(1000)
    assert violations == []
