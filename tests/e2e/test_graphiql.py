"""The explorers in a real headless Chromium against a real uvicorn server: GraphiQL loads
without a token and without an error, from Rounds' own assets (no CDN); a token pasted into its
token field loads the schema into the docs pane and the default query returns data. Swagger UI
at /docs renders the operations from Rounds' own assets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.docs import SWAGGER_UI
from app.auth.tokens import mint_token
from app.config import Settings
from app.db.migrate import upgrade
from app.graphql.explorer import assets_built

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page(tmp_path: Path) -> Iterator[Any]:
    """A page of Debian's headless Chromium driven by Playwright (skips without either)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    db = f"sqlite+aiosqlite:///{tmp / 'rounds.db'}"
    upgrade("head", db)
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": db,
        "VAR_DIR": str(tmp / "var"),
    }
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # (a slow machine warms the PHI prefilter first)
            try:
                if httpx.get(base + "/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("uvicorn did not start")
        settings = Settings(environment="development", database_url=db, var_dir=tmp / "var")
        yield base, settings
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_explorer_first_minute_token_then_docs_then_default_query(server, tmp_path):
    """What a newcomer does: open the page (no error, no token needed), paste a token into the
    token field, see the schema in the docs pane, run the default roadmap query."""
    base, settings = server
    token = mint_token(settings, sub="e2e-pm", role="product_manager")
    requests: list[str] = []
    with chromium_page(tmp_path) as page:
        page.on("request", lambda r: requests.append(r.url))
        response = page.goto(base + "/graphql", wait_until="load")
        assert response is not None and response.status == 200  # no token needed
        assert "Paste one above" in page.text_content("#welcome")
        assert not [u for u in requests if u.endswith("/graphql") and u != base + "/graphql"]

        page.fill("#token", token)
        page.click("#use-token")
        page.wait_for_selector(".graphiql-container", timeout=30_000)
        page.click('[aria-label="Show Documentation Explorer"]')
        page.click(".graphiql-doc-explorer-root-type a, .graphiql-doc-explorer-type-name")
        page.wait_for_selector(".graphiql-doc-explorer-field-name >> text=products")
        fields = page.eval_on_selector_all(
            ".graphiql-doc-explorer-field-name", "els => els.map(e => e.textContent)"
        )

        page.click(".graphiql-execute-button")
        page.wait_for_function(
            """() => {
              const el = document.querySelector('.graphiql-response .CodeMirror');
              return el && el.CodeMirror.getValue().includes('totalCount');
            }""",
            timeout=30_000,
        )
        result = page.evaluate(
            "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
    assert {"me", "products", "stories", "roadmapItems"} <= set(fields)
    assert '"products"' in result and '"errors"' not in result
    if assets_built():
        assert not [u for u in requests if "unpkg.com" in u], "assets must come from Rounds"
        assert any("/static/graphiql/graphiql.min.js" in u for u in requests)


def test_openapi_explorer_renders_from_rounds_own_assets(server, tmp_path):
    base, _ = server
    requests: list[str] = []
    with chromium_page(tmp_path) as page:
        page.on("request", lambda r: requests.append(r.url))
        response = page.goto(base + "/docs", wait_until="load")
        assert response is not None and response.status == 200
        # Swagger UI lists the operations once it has loaded and rendered /openapi.json.
        page.wait_for_selector("#operations-stories-listStories", timeout=30_000)
        title = page.text_content(".info .title") or ""
    assert "Rounds API" in title
    if SWAGGER_UI.built():
        assert all(u.startswith(base) for u in requests), "assets must come from Rounds"
        assert any("/static/swagger-ui/swagger-ui-bundle.js" in u for u in requests)
