"""`python -m app.contracts [--check]`: write (or check) openapi/openapi.json and
openapi/schema.graphql from the code. CI's drift tests compare against the same output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_PATH = ROOT / "openapi" / "openapi.json"
SDL_PATH = ROOT / "openapi" / "schema.graphql"


def openapi_text() -> str:
    from app.main import create_app

    app = create_app(Settings(environment="development", database_url="sqlite+aiosqlite://"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def sdl_text() -> str:
    from app.graphql.sdl import print_sdl

    return print_sdl().rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    outputs = [(OPENAPI_PATH, openapi_text()), (SDL_PATH, sdl_text())]
    drift = []
    for path, text in outputs:
        if check:
            if not path.exists() or path.read_text() != text:
                drift.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    for path in drift:
        print(f"drift: {path.relative_to(ROOT)} differs; run `make contracts`", file=sys.stderr)
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
