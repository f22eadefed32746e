#!/usr/bin/env python3
"""Build the GraphiQL explorer's assets into app/static/graphiql/ from the npm registry.

Hospital networks often block public CDNs, so Rounds serves GraphiQL itself. When `npm` is
present this installs the pinned `graphiql`, `react` and `react-dom` packages into a build
directory and copies their UMD bundles and CSS next to the app; without npm it says so and
exits 0 (the explorer page then falls back to the CDN). Idempotent: skips work when the
assets of the pinned versions are already in place (use --force to rebuild).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.graphql.explorer import ASSETS, PACKAGES, STATIC_DIR  # noqa: E402

BUILD_DIR = ROOT / "build" / "graphiql"
MANIFEST = STATIC_DIR / "versions.json"


def up_to_date() -> bool:
    if not all((STATIC_DIR / name).is_file() for name in ASSETS):
        return False
    try:
        return json.loads(MANIFEST.read_text()) == PACKAGES
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    if up_to_date() and not args.force:
        print(f"graphiql: assets up to date in {STATIC_DIR.relative_to(ROOT)}")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("graphiql: npm not found; the explorer will load GraphiQL from the CDN")
        return 0

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    (BUILD_DIR / "package.json").write_text(
        json.dumps({"name": "rounds-graphiql-assets", "private": True}, indent=2)
    )
    specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
    print("graphiql: npm install " + " ".join(specs))
    cmd = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", *specs]
    done = subprocess.run(cmd, cwd=BUILD_DIR, check=False)  # noqa: S603
    if done.returncode != 0:
        print("graphiql: npm install failed; the explorer will use the CDN", file=sys.stderr)
        return 0 if not (STATIC_DIR / "graphiql.min.js").exists() else 1

    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    modules = BUILD_DIR / "node_modules"
    for name, (package, path) in ASSETS.items():
        shutil.copyfile(modules / package / path, STATIC_DIR / name)
    for package in PACKAGES:
        licence = modules / package / "LICENSE"
        if licence.exists():
            shutil.copyfile(licence, STATIC_DIR / f"LICENSE.{package}")
    MANIFEST.write_text(json.dumps(PACKAGES, indent=2) + "\n")
    print(f"graphiql: wrote {len(ASSETS)} assets to {STATIC_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
