"""The Docker build context: what `docker build .` sends is computed from `.dockerignore` with
the docker SDK's own matcher (the rules the daemon applies), over a tree that holds what a
developer's checkout holds: development keys, databases, a virtualenv, caches."""

from __future__ import annotations

import re
from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[1]

SECRETS_AND_JUNK = [
    "var/dev-signing-key.pem",
    "var/phi-keys",
    "var/rounds.db",
    "var/rounds.db-wal",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/x.py",
    ".git/config",
    ".env",
    "node_modules/graphiql/index.js",
    "bench/.results/run.json",
    "build/graphiql/bundle.js",
    "app/phi/_native/detector.cpython-311-x86_64-linux-gnu.so",
    "rounds.sqlite3",
    "backup.sqlite",
    "signing.pem",
    "app/leftover.pem",
    "app/phi-keys",
    "app/local.db",
    "migrations/__pycache__/env.cpython-311.pyc",
    "app/__pycache__/main.cpython-311.pyc",
    ".pytest_cache/v/cache/lastfailed",
    "rounds.egg-info/PKG-INFO",
    "tests/conftest.py",
]
NEEDED = ["app/main.py", "app/graphql/schema.py", "migrations/env.py", "alembic.ini"]


def _patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _context(root: Path) -> set[str]:
    return set(exclude_paths(str(root), _patterns()))


def test_keys_databases_and_environments_stay_out_of_the_build_context(tmp_path):
    for rel in [*SECRETS_AND_JUNK, *NEEDED, "pyproject.toml", "README.md"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    sent = _context(tmp_path)
    leaked = [rel for rel in SECRETS_AND_JUNK if rel in sent]
    assert not leaked, leaked
    assert not any(p == "var" or p.startswith(("var/", ".venv", ".git/")) for p in sent)
    missing = [rel for rel in NEEDED if rel not in sent]
    assert not missing, missing


def test_everything_the_dockerfile_copies_is_in_the_context():
    """The allowlist must not starve the build: each COPY source of the Dockerfile (from this
    checkout) is sent, and app/ is sent whole (apart from caches)."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert {"app", "migrations", "alembic.ini", "pyproject.toml"} <= set(sources)
    sent = _context(ROOT)
    assert all(s in sent for s in sources), [s for s in sources if s not in sent]
    app_files = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "app").rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not re.search(r"\.py[cod]$", p.name)
        and "_native"
        not in p.parts  # this machine's build of the detector: the image builds its own
    }
    assert app_files and app_files <= sent, sorted(app_files - sent)[:5]
    assert not any(p.startswith(("var/", ".venv/", ".git/")) for p in sent)
