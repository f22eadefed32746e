"""The detector's native build (scripts/build_native.py, app/phi/__init__.py): mypyc compiles
the same source, so the two builds must find the same spans; a build of an older source is
never loaded; and CI, where ``make install`` builds it, runs the native build."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import app.phi
from app.phi import detector, native_fresh, source_digest
from tests.phi.samples import TRANSCRIPT, corpus_texts, mutated, plain_module

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


@pytest.mark.skipif(not NATIVE, reason="no native build loaded (make install builds it)")
def test_native_and_plain_builds_find_the_same_spans() -> None:
    plain = plain_module("detector")
    assert plain.__file__ is not None and plain.__file__.endswith("detector.py")
    texts = _texts()
    assert len(texts) > 600
    for text in texts:
        native, expected = detector.detect(text), plain.detect(text)
        got = [(s.start, s.end, s.category) for s in native.spans]
        assert got == [(s.start, s.end, s.category) for s in expected.spans], text[:80]
        assert native.redacted == expected.redacted
        assert native.categories == expected.categories
    names = detector.detect("Zebulon Quackenbush called", names=["Zebulon Quackenbush"])
    assert [(s.start, s.end) for s in names.spans] == [(0, 19)]


def test_a_build_of_another_source_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROUNDS_PHI_NATIVE", raising=False)
    assert not native_fresh(tmp_path)  # no build at all
    stamp = tmp_path / "detector.sha256"
    stamp.write_text("0" * 64 + "\n")
    assert not native_fresh(tmp_path)  # built from an older source
    stamp.write_text(source_digest("detector") + "\n")
    assert native_fresh(tmp_path)
    monkeypatch.setenv("ROUNDS_PHI_NATIVE", "0")
    assert not native_fresh(tmp_path)  # switched off


def test_the_native_directory_is_searched_first_only_when_fresh() -> None:
    in_path = str(app.phi.NATIVE_DIR) in app.phi.__path__
    assert in_path == (NATIVE or native_fresh())
