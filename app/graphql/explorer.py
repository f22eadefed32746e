"""The GraphiQL explorer page. Its assets are served by Rounds from app/static/graphiql/
(built by `make explorers` from the npm registry; hospital networks block CDNs), with the
public CDN as a fallback when they were not built."""

from __future__ import annotations

import html

import orjson

from app.core.assets import AssetSet

# GraphiQL 3 is the last line that ships a UMD bundle (no bundler).
GRAPHIQL = AssetSet(
    name="graphiql",
    packages={"graphiql": "3.8.3", "react": "18.3.1", "react-dom": "18.3.1"},
    assets={
        "react.production.min.js": ("react", "umd/react.production.min.js"),
        "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
        "graphiql.min.js": ("graphiql", "graphiql.min.js"),
        "graphiql.min.css": ("graphiql", "graphiql.min.css"),
    },
)
STATIC_DIR = GRAPHIQL.static_dir
STATIC_URL = GRAPHIQL.static_url


def assets_built() -> bool:
    return GRAPHIQL.built()


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Rounds GraphQL explorer</title>
<link rel="stylesheet" href="{css}">
<style>
  html, body {{ height: 100%; margin: 0; }}
  body {{ display: flex; flex-direction: column; font-family: system-ui, sans-serif; }}
  #token-bar {{ display: flex; gap: .5rem; align-items: center; padding: .4rem .75rem;
               border-bottom: 1px solid #ddd; font-size: 14px; }}
  #token-bar input {{ flex: 1; max-width: 40rem; font: inherit; padding: .25rem .4rem; }}
  #token-bar code {{ background: #f3f3f3; padding: 0 .25rem; }}
  #graphiql {{ flex: 1; min-height: 0; }}
  #welcome {{ padding: 2rem; max-width: 46rem; line-height: 1.5; }}
</style>
</head>
<body>
<form id="token-bar" autocomplete="off">
  <label for="token">Bearer token</label>
  <input id="token" name="token" type="password" spellcheck="false"
         placeholder="paste a token: python -m app tokens create --sub you --role engineer">
  <button id="use-token" type="submit">Use token</button>
  <span id="token-state" role="status"></span>
</form>
<div id="graphiql"><div id="welcome">
  <p><strong>Rounds GraphQL explorer.</strong> Every query needs a token, and so does the schema
  (documentation and autocomplete). Paste one above and press <em>Use token</em>; the schema loads
  and the example query below shows a real roadmap page.</p>
  <p>Mint one with <code>python -m app tokens create --sub demo-pm --role product_manager</code>.
  It stays in this tab only (session storage).</p>
</div></div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script>
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  const state = document.getElementById("token-state");
  const input = document.getElementById("token");
  function explore(token) {{
    // A new fetcher (and a fresh GraphiQL) per token, so the schema is fetched again with it.
    const wsScheme = location.protocol === "https:" ? "wss://" : "ws://";
    const fetcher = GraphiQL.createFetcher({{
      url: {endpoint},
      headers: {{ Authorization: "Bearer " + token }},
      // Subscriptions over graphql-transport-ws, authenticated by connection_init's payload.
      subscriptionUrl: wsScheme + location.host + {endpoint},
      wsConnectionParams: {{ Authorization: "Bearer " + token }},
    }});
    root.render(React.createElement(GraphiQL, {{
      key: token,
      fetcher,
      shouldPersistHeaders: false,
      defaultQuery: {default_query},
    }}));
    state.textContent = "token in use";
  }}
  document.getElementById("token-bar").addEventListener("submit", (event) => {{
    event.preventDefault();
    const token = input.value.trim().replace(/^Bearer\\s+/i, "");
    if (!token) {{ state.textContent = "paste a token first"; return; }}
    sessionStorage.setItem("rounds-token", token);
    input.value = "";
    explore(token);
  }});
  const saved = sessionStorage.getItem("rounds-token");
  if (saved) explore(saved);
</script>
</body>
</html>
"""

DEFAULT_QUERY = """# A roadmap page: products, top roadmap items by RICE, and their stories.
query Roadmap {
  products(first: 5) {
    totalCount
    nodes {
      key
      name
      roadmapItems(first: 10, sort: RICE_SCORE_DESC) {
        nodes { title status riceScore stories(first: 5) { nodes { key title status } } }
      }
    }
  }
}
"""


def explorer_html(endpoint: str) -> str:
    urls = GRAPHIQL.urls()
    return _PAGE.format(
        css=html.escape(urls["graphiql.min.css"]),
        react=html.escape(urls["react.production.min.js"]),
        react_dom=html.escape(urls["react-dom.production.min.js"]),
        graphiql=html.escape(urls["graphiql.min.js"]),
        endpoint=orjson.dumps(endpoint).decode().replace("<", "\\u003c"),
        default_query=orjson.dumps(DEFAULT_QUERY).decode().replace("<", "\\u003c"),
    )
