"""The explorer pages' Content-Security-Policy (app/ops/observe.py) in a real headless
Chromium: GraphiQL renders and runs with the CSP enforced, and the browser reports no
violation. (/docs loads Swagger UI from a CDN, unreachable on this network; its CSP is
checked in tests/ops/test_headers_cors.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_graphiql import CHROMIUM, FLAGS, server  # noqa: F401 - fixture reused

pytestmark = pytest.mark.e2e


def test_graphiql_works_under_its_csp(server, tmp_path):  # noqa: F811
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make chromium)")
    base, _ = server
    violations: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', (e) =>"
                " console.error('Content Security Policy violation: ' + e.violatedDirective))"
            )
            response = page.goto(base + "/graphql", wait_until="load")
            assert response is not None and response.status == 200
            csp = response.headers.get("content-security-policy", "")
            assert "script-src 'self' 'sha256-" in csp
            page.wait_for_selector(".graphiql-container", timeout=30_000)
            page.wait_for_timeout(1000)
        finally:
            browser.close()
    assert violations == []
