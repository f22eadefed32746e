"""The facility-head word lists agree with one another (app/phi/detector.py).

A facility's head word ("Hospital", "Chemist", "Trust") is written in four places: the scan's
alternation ``_FACILITY_HEAD``, the cheap literal gate ``_HEAD_HINTS`` the scan runs behind,
and, for an ordinary word, ``_WEAK_HEADS`` and ``_NAMED_BY_ANY_WORD``. A head added to the
alternation without a hint is never scanned for in most texts; a weak head that the
alternation cannot match is a dead entry. These tests name the list that was forgotten."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.phi import detector
from app.phi.detector import detect

_HEAD = re.compile(detector._FACILITY_HEAD)


@settings(max_examples=400, deadline=None)
@given(st.from_regex(_HEAD, fullmatch=True))
def test_every_head_the_scan_matches_passes_its_gate(head: str) -> None:
    assert detector._HEAD_HINT_RE.search(head), f"{head!r}: add a word of it to _HEAD_HINTS"


def _spelled(word: str) -> list[str]:
    return [word.capitalize(), word.upper(), word.title()]


@pytest.mark.parametrize("word", sorted(detector._WEAK_HEADS | detector._NAMED_BY_ANY_WORD))
def test_every_weak_head_is_a_head_of_the_scan(word: str) -> None:
    assert any(_HEAD.fullmatch(w) for w in _spelled(word)), f"{word!r} is no _FACILITY_HEAD"


def test_the_heads_a_name_makes_a_place_are_weak_heads() -> None:
    # (a strong head makes a place of any capitalised run; the set is read only for weak ones)
    assert detector._NAMED_BY_ANY_WORD <= detector._WEAK_HEADS


@pytest.mark.parametrize("word", sorted(detector._NAMED_BY_ANY_WORD - {"med", "children’s"}))
def test_an_uncommon_name_before_such_a_head_is_a_place(word: str) -> None:
    # (a lone "Trust" after a word is as often a charity: a hospital trust says it is one)
    head = {
        "children's": "Children's",
        "trust": "Health Trust",
        "ymca": "YMCA",
        "ywca": "YWCA",
    }.get(word, word.capitalize())
    text = f"I did my first year at Brackenthwaite {head} before I moved."
    start = text.index("Brackenthwaite")
    assert any(s.start <= start < s.end and s.category == "LOCATION" for s in detect(text).spans)
