"""The GraphiQL explorer page. Its assets are served by Rounds from app/static/graphiql/
(built by `make graphiql` from the npm registry; hospital networks block CDNs), with the
public CDN as a fallback when they were not built."""

from __future__ import annotations

import html
from pathlib import Path

import orjson

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "graphiql"
STATIC_URL = "/static/graphiql"

# Pinned npm packages: GraphiQL 3 is the last line that ships a UMD bundle (no bundler).
PACKAGES = {"graphiql": "3.8.3", "react": "18.3.1", "react-dom": "18.3.1"}

# file served by Rounds -> (npm package, path inside it)
ASSETS = {
    "react.production.min.js": ("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.min.js": ("graphiql", "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql.min.css"),
}


def _cdn(name: str) -> str:
    package, path = ASSETS[name]
    return f"https://unpkg.com/{package}@{PACKAGES[package]}/{path}"


def assets_built() -> bool:
    return all((STATIC_DIR / name).is_file() for name in ASSETS)


def asset_urls() -> dict[str, str]:
    """Local URLs when the assets were built, else the CDN."""
    if assets_built():
        return {name: f"{STATIC_URL}/{name}" for name in ASSETS}
    return {name: _cdn(name) for name in ASSETS}


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Rounds GraphQL explorer</title>
<link rel="stylesheet" href="{css}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading the GraphQL explorer…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script>
  // The page needs no token; queries do. Paste one into the Headers tab:
  // {{"Authorization": "Bearer <token from `python -m app tokens create`>"}}
  const wsScheme = location.protocol === "https:" ? "wss://" : "ws://";
  const fetcher = GraphiQL.createFetcher({{
    url: {endpoint},
    // Subscriptions over graphql-transport-ws; the Headers tab is sent as connection_init's
    // payload, so the same Authorization header authenticates the socket.
    subscriptionUrl: wsScheme + location.host + {endpoint},
  }});
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher,
      defaultEditorToolsVisibility: "headers",
      headerEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultHeaders: JSON.stringify({{ Authorization: "Bearer " }}, null, 2),
      defaultQuery: {default_query},
    }}),
  );
</script>
</body>
</html>
"""

DEFAULT_QUERY = """# Add your token in the Headers tab below, then run.
query Roadmap {
  products(first: 5) {
    totalCount
    nodes {
      key
      name
      roadmapItems(first: 10, sort: "-riceScore") {
        nodes { title status riceScore stories(first: 5) { nodes { key title status } } }
      }
    }
  }
}
"""


def explorer_html(endpoint: str) -> str:
    urls = asset_urls()
    return _PAGE.format(
        css=html.escape(urls["graphiql.min.css"]),
        react=html.escape(urls["react.production.min.js"]),
        react_dom=html.escape(urls["react-dom.production.min.js"]),
        graphiql=html.escape(urls["graphiql.min.js"]),
        endpoint=orjson.dumps(endpoint).decode().replace("<", "\\u003c"),
        default_query=orjson.dumps(DEFAULT_QUERY).decode().replace("<", "\\u003c"),
    )
