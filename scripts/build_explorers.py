#!/usr/bin/env python3
"""Build the explorers' browser assets (GraphiQL, Swagger UI) into app/static/ from npm.

Hospital networks often block public CDNs, so Rounds serves its explorers itself. When `npm`
is present this installs each asset set's pinned packages into a build directory and copies
the files the pages load next to the app; without npm it says so and exits 0 (the pages then
fall back to the CDN). Idempotent: skips a set whose pinned versions are already in place
(use --force to rebuild).
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

from app.api.docs import SWAGGER_UI  # noqa: E402
from app.core.assets import AssetSet  # noqa: E402
from app.graphql.explorer import GRAPHIQL  # noqa: E402

SETS = (GRAPHIQL, SWAGGER_UI)


def up_to_date(assets: AssetSet) -> bool:
    if not assets.built():
        return False
    try:
        return json.loads((assets.static_dir / "versions.json").read_text()) == assets.packages
    except (OSError, ValueError):
        return False


def build(assets: AssetSet, npm: str, *, force: bool) -> int:
    name, static = assets.name, assets.static_dir
    if up_to_date(assets) and not force:
        print(f"{name}: assets up to date in {static.relative_to(ROOT)}")
        return 0
    build_dir = ROOT / "build" / name
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / "package.json").write_text(
        json.dumps({"name": f"rounds-{name}-assets", "private": True}, indent=2)
    )
    specs = [f"{package}@{version}" for package, version in assets.packages.items()]
    print(f"{name}: npm install " + " ".join(specs))
    cmd = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", *specs]
    done = subprocess.run(cmd, cwd=build_dir, check=False)  # noqa: S603
    if done.returncode != 0:
        print(f"{name}: npm install failed; the page will use the CDN", file=sys.stderr)
        return 1 if assets.built() else 0
    static.mkdir(parents=True, exist_ok=True)
    modules = build_dir / "node_modules"
    for file, (package, path) in assets.assets.items():
        shutil.copyfile(modules / package / path, static / file)
    for package in assets.packages:
        licence = modules / package / "LICENSE"
        if licence.exists():
            shutil.copyfile(licence, static / f"LICENSE.{package}")
    (static / "versions.json").write_text(json.dumps(assets.packages, indent=2) + "\n")
    print(f"{name}: wrote {len(assets.assets)} assets to {static.relative_to(ROOT)}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    npm = shutil.which("npm")
    if npm is None:
        if not all(up_to_date(a) for a in SETS):
            print("explorers: npm not found; the pages will load their assets from the CDN")
        return 0
    return max(build(a, npm, force=args.force) for a in SETS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
