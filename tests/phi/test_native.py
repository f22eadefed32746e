"""The detector's native build (scripts/build_native.py, app/phi/__init__.py): mypyc compiles
the same source, so the two builds must find the same spans; a build of an older source is
never loaded; and CI, where ``make install`` builds it, runs the native build."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import app.phi
from app.phi import NATIVE_MODULES, detector, native_fresh, source_digest
from tests.phi.samples import TRANSCRIPT, corpus_texts, mutated

NATIVE = detector.__file__ is not None and detector.__file__.endswith(".so")


def test_ci_runs_the_native_build() -> None:
    """`make install` builds it before the suite; a build that silently failed (or went
    stale) would leave CI measuring and testing the plain module instead."""
    if os.environ.get("CI") != "true":
        pytest.skip("outside CI the native build is optional")
    assert native_fresh(), "app/phi/_native/ holds no build of the current detector source"
    assert NATIVE, detector.__file__


def _texts() -> list[str]:
    rng = random.Random(12)
    base = [*corpus_texts(), TRANSCRIPT, "", "x", "Dr. Ó Súilleabháin rang from 02 9374 4000."]
    out = []
    for text in base:
        out += [text, text.lower(), text.upper(), mutated(text or "?", rng, "aA1 9\n:,.’é-", 4)]
    return out


_PLAIN = """
import json, sys
import app.phi.detector, app.phi.prefilter
from app.phi.detector import detect
assert app.phi.detector.__file__.endswith(".py") and app.phi.prefilter.__file__.endswith(".py")
texts = json.load(sys.stdin)
json.dump([[[s.start, s.end, s.category] for s in detect(t).spans] for t in texts], sys.stdout)
"""


@pytest.mark.skipif(not NATIVE, reason="no native build loaded (make install builds it)")
def test_native_and_plain_builds_find_the_same_spans() -> None:
    """Every native module against the plain ones, in a process that loads no native build."""
    texts = _texts()
    assert len(texts) > 600
    env = {**os.environ, "ROUNDS_PHI_NATIVE": "0"}
    run = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _PLAIN],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    expected = json.loads(run.stdout)
    for text, plain in zip(texts, expected, strict=True):
        got = [[s.start, s.end, s.category] for s in detector.detect(text).spans]
        assert got == plain, text[:80]
    names = detector.detect("Zebulon Quackenbush called", names=["Zebulon Quackenbush"])
    assert [(s.start, s.end) for s in names.spans] == [(0, 19)]


def test_the_plain_modules_load_under_rounds_phi_native_0() -> None:
    env = {**os.environ, "ROUNDS_PHI_NATIVE": "0"}
    code = "import app.phi.detector as d, app.phi.prefilter as p; print(d.__file__, p.__file__)"
    run = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.stdout.split() == [
        str(Path(app.phi.__file__).parent / f"{n}.py") for n in ("detector", "prefilter")
    ]


def test_a_build_of_another_source_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROUNDS_PHI_NATIVE", raising=False)
    assert not native_fresh(tmp_path)  # no build at all
    for name in NATIVE_MODULES:
        (tmp_path / f"{name}.sha256").write_text(source_digest(name) + "\n")
    assert native_fresh(tmp_path)
    for name in NATIVE_MODULES:  # any one module built from an older source
        stamp = tmp_path / f"{name}.sha256"
        stamp.write_text("0" * 64 + "\n")
        assert not native_fresh(tmp_path), name
        stamp.write_text(source_digest(name) + "\n")
    assert native_fresh(tmp_path)
    monkeypatch.setenv("ROUNDS_PHI_NATIVE", "0")
    assert not native_fresh(tmp_path)  # switched off


def test_the_native_directory_is_searched_first_only_when_fresh() -> None:
    in_path = str(app.phi.NATIVE_DIR) in app.phi.__path__
    assert in_path == (NATIVE or native_fresh())
