"""The OpenAPI explorer at /docs: Swagger UI from Rounds' own assets (app/static/swagger-ui/,
built from the npm registry's `swagger-ui-dist` at install time), like the GraphiQL explorer;
the CDN only when the assets were not built."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from app.core.assets import AssetSet

SWAGGER_UI = AssetSet(
    name="swagger-ui",
    packages={"swagger-ui-dist": "5.35.0"},
    assets={
        "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
        "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
        "favicon-32x32.png": ("swagger-ui-dist", "favicon-32x32.png"),
    },
)


def mount_docs(app: FastAPI, *, openapi_url: str) -> None:
    """GET /docs and its assets under /static/swagger-ui."""
    app.mount(
        SWAGGER_UI.static_url,
        StaticFiles(directory=SWAGGER_UI.static_dir, check_dir=False),
        name="swagger-ui-static",
    )

    async def docs() -> HTMLResponse:
        urls = SWAGGER_UI.urls()
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="Rounds API",
            swagger_js_url=urls["swagger-ui-bundle.js"],
            swagger_css_url=urls["swagger-ui.css"],
            swagger_favicon_url=urls["favicon-32x32.png"],
        )

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
