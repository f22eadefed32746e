"""The Hyperscan prefilter may only rule out scans that have no match (app/phi/prefilter.py).

A scan it wrongly rules out would silently stop redacting, so every gated scan is checked
against Python's own answer on the committed corpora and on texts built to sit at the edges
(one character from a match, odd white space, accented letters, characters the two engines
disagree on).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.phi import detector, gates, prefilter
from app.phi.detector import _PREFILTER, detect
from tests.phi.samples import corpus_texts, mutated

pytestmark = pytest.mark.skipif(prefilter._hs is None, reason="hyperscan is not installed")


def _texts() -> list[str]:
    return corpus_texts()


def _edge_texts() -> list[str]:
    rng = random.Random(12)
    base = [
        "Seen 03/14/2023 at Mercy General Hospital, 12 Oak St., Dayton, OH 45402.",
        "call seven oh three, five five five, oh one four two; she's ninety-four",
        "MRN: 4417-1234 and SSN 123-45-6789; acct #AB-123456 or RV1234567.",
        "the twelfth of june, last tuesday, next March 3 — Dr. Müller at St. Joseph’s",
        "Email jane.doe@example.org, http://x.org/a, 10.0.0.1 and fe80::1 please",
        "P07: I told Ana\u00a0Lopez.\x1cAge 93 y/o, 101 years old; zip code 84401",
        "Dr\u0130stanbul ſtreet KELVIN \u212a and ǅ, ı, µ.",
    ]
    alphabet = "aAbBcC019 ,.-/:#@\n\t’éÉ"
    out = list(base)
    for text in base:
        out += [mutated(text, rng, alphabet, rng.randint(1, 4)) for _ in range(30)]
    return out


def _gated() -> list[tuple[re.Pattern[str], bool]]:
    return [(p, False) for p in _PREFILTER._text] + [(p, True) for p in _PREFILTER._low]


def test_every_scan_the_prefilter_rules_out_has_no_match() -> None:
    checked = ruled_out = 0
    for text in _texts() + _edge_texts():
        low = text.lower()
        if len(low) != len(text):
            continue
        may = _PREFILTER.possible(text, low)
        for pattern, on_low in _gated():
            if pattern in may:
                continue
            ruled_out += 1
            assert pattern.search(low if on_low else text) is None, (pattern.pattern[:60], text)
        checked += 1
    assert checked > 300 and ruled_out > 1000  # the prefilter is in use, not just passing all


def test_text_the_engines_disagree_on_gets_every_scan() -> None:
    # (A no-break space is read as a space; a line separator is left unread, like every
    # character without a stand-in.)
    for text in ("Kelvin \u212a", "long \u017f", "sep \x1c here", "ls\u2028here", "ǅ"):
        assert _PREFILTER.possible(text, text.lower()) is prefilter.EVERYTHING


def test_detect_is_the_same_with_and_without_the_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()[:80] + _edge_texts()
    with_filter = [detect(t) for t in texts]

    class NoPrefilter:  # (the native build's Prefilter takes no attribute of a test's)
        def possible(self, text: str, low: str) -> prefilter.Possible:
            return prefilter.EVERYTHING

    monkeypatch.setattr(detector, "_PREFILTER", NoPrefilter())
    without = [detect(t) for t in texts]
    assert with_filter == without


def test_threads_each_get_their_own_scratch_space() -> None:
    # Hyperscan releases the GIL while scanning; a scratch space shared between threads
    # would fail with "scratch in use" (or worse). Same results as one thread.
    from concurrent.futures import ThreadPoolExecutor

    texts = _texts()[:60] * 4
    alone = [detect(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(detect, texts))
    assert together == alone


def test_anchored_scans_find_what_their_scan_finds() -> None:
    # An anchored scan is tried only where one of its literal openings occurs: it must find
    # every match the plain scan finds, in the same order, and skip texts without them.
    assert _PREFILTER._anchored
    checked = without = 0
    for text in _texts() + _edge_texts():
        low = text.lower()
        if len(low) != len(text):
            continue
        may = _PREFILTER.possible(text, low)
        for rx in _PREFILTER._anchored:
            got = [(m.span(), m.regs) for m in may.finditer(rx, low)]
            assert got == [(m.span(), m.regs) for m in rx.finditer(low)], (rx.pattern[:60], text)
            checked += 1
            without += not got
    assert checked > 300 and without > 100


def test_literal_openings_are_read_from_the_pattern() -> None:
    def openings(pattern: str, flags: int = 0) -> list[str] | None:
        return gates.literal_prefixes(re.compile(pattern, flags))

    assert openings(r"(?=[ac])\b(?:ab|c(?:dd|ee)f|(?:gh|ij)\s+k)x") == [
        "ab",
        "cdd",
        "cee",
        "gh",
        "ij",
    ]
    assert openings(r"c(?:d|e)") == ["c"]  # (the parser makes "d|e" a class: stop there)
    assert openings(r"ab(?:c|)") == ["ab"]  # an alternation that may match empty: stop before it
    assert openings(r"(?:ab)+c") == ["ab"]
    assert openings(r"(?:ab|[cd]e)") is None  # a branch that opens with a class
    assert openings(r"(?:ab)?c") is None  # a repeat that may be skipped
    assert openings(r"ab", re.IGNORECASE) is None
    assert openings(r"a(?i:b)") == ["a"]
    assert openings(r"(?i:a)b") is None


def _latin_texts() -> list[str]:
    rng = random.Random(21)
    base = [
        "Dr. Łukasz Müller-Ødegård saw Inés Peña at São José Hospital on 3 März 2023.",
        "P07: I told François, he's ninety-four; Zoë lives in Kraków, Gdańsk or Århus.",
        "call Renée at 555-0142 or email renée@exämple.org; MRN ÉÀ-123456 for Björn",
        "my sister Ágnes said so, the twelfth of june, over at St. Łódź General Clinic",
        "the Mercy Clínica, 12 Oak Street, Dayton, OH 45402; fiancée Chloé, age 93",
        # Transcripts' punctuation: dashes, curly quotes, an ellipsis, a no-break space.
        "C: i’m at lakeview family health in dayton— I mean “Lakeview”… call 555\u00a00142",
        "INT: So—sorry—Ms. O’Neil’s son Rhys, he’s ninety‑four, at 40 Birch Lane, Ogden 84401 …",
    ]
    alphabet = "éÉüÜłŁøØåÅçñàÀəƏ aA1 ,.-\n—–’‘“”…\u00a0•"
    out = list(base)
    for text in base:
        out += [mutated(text, rng, alphabet, rng.randint(1, 8)) for _ in range(40)]
        out.append(text.lower())
        out.append(text.upper())
    return out


def test_latin_letters_are_read_as_their_stand_ins() -> None:
    # Texts with letters outside ASCII are prefiltered through their ASCII stand-ins: every
    # scan ruled out there has no match in the text itself, and anchored scans find all.
    stand_ins = (_PREFILTER.warm(), _PREFILTER._stand_ins)[1]
    assert len(stand_ins) > 300 and stand_ins[ord("é")] == "e" and stand_ins[ord("Ł")] == "A"
    for odd in "ſıİßK":  # letters whose case folding reaches outside their own pair
        assert ord(odd) not in stand_ins
    # Dashes, curly quotes, the ellipsis and a no-break space are read too (a transcript with
    # them is no longer read in full by every scan).
    for char in "—–’‘“”…\u00a0":
        assert ord(char) in stand_ins and stand_ins[ord(char)].isascii(), char
    read = ruled_out = 0
    for text in _latin_texts():
        low = text.lower()
        if len(low) != len(text):
            continue
        may = _PREFILTER.possible(text, low)
        if may is prefilter.EVERYTHING:
            continue
        read += 1
        for pattern, on_low in _gated():
            if pattern not in may:
                ruled_out += 1
                assert pattern.search(low if on_low else text) is None, (pattern.pattern[:60], text)
        for rx in _PREFILTER._anchored:
            got = [(m.span(), m.regs) for m in may.finditer(rx, low)]
            assert got == [(m.span(), m.regs) for m in rx.finditer(low)], (rx.pattern[:60], text)
    assert read > 150 and ruled_out > 1000


def test_stand_ins_replace_only_letters_outside_ascii() -> None:
    # The pass translates only a text's runs outside ASCII: the same as translating it all.
    stand_ins = (_PREFILTER.warm(), _PREFILTER._stand_ins)[1]
    assert min(stand_ins) > 0x7F
    for text in [*_latin_texts(), "Øyvind Åsen", "naïve café, São Paulo", "ascii only", ""]:
        for t in (text, text.lower()):
            assert _PREFILTER._stood_in(t) == t.translate(stand_ins)


def test_stand_ins_keep_every_class_that_accepts_the_letter() -> None:
    def stand_ins(*patterns: str) -> dict[int, str]:
        return gates.ascii_stand_ins([(p, 0) for p in patterns])

    assert stand_ins(r"\w+")[ord("é")] == "e"
    assert stand_ins(r"[a-zé]")[ord("é")] == "e"
    assert ord("é") not in stand_ins(r"[^a-z]")  # "é" is no a-z, its stand-in would be
    assert ord("é") not in stand_ins(r"é")  # a literal "é" would not accept "e"
    assert stand_ins(r"(?i:[ée])x")[ord("É")] == "E"
    assert stand_ins(r"x(?![a-z])")[ord("é")] == "e"  # lookarounds: widened by Hyperscan
    assert stand_ins(r"[^ø]", r"[ao]")[ord("ø")] == "a"  # no base letter: "a" where it fits


def test_building_the_databases_gives_the_compilers_memory_back() -> None:
    # Hyperscan's compiler frees some 50 MB when it is done, which glibc would keep for the
    # process: each worker held it for its life (issue #17 caps a worker at 200 MB).
    if not Path("/proc/self/status").exists():
        pytest.skip("reads RSS from /proc")
    script = (
        "from app.phi import detector as d\n"
        "def rss():\n"
        "    return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) // 1024\n"
        "before = rss()\n"
        "d._PREFILTER.warm()\n"
        "print(rss() - before)\n"
    )
    # (the cache off: the compilers must run)
    env = {**os.environ, "ROUNDS_PHI_NATIVE": "0", "ROUNDS_PHI_CACHE_DIR": ""}
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert int(out.stdout.split()[-1]) < 25, out.stdout


def _tiny_prefilter() -> prefilter.Prefilter:
    return prefilter.Prefilter(
        text_scans=[(re.compile(r"\bward[ ]\d+"), None)], low_scans=[(re.compile("oak"), None)]
    )


def test_a_built_database_is_kept_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building the detector's databases takes 15-20 s on a small machine: a worker reads
    # the ones an earlier process built, and gets the same answers from them.
    monkeypatch.setenv("ROUNDS_PHI_CACHE_DIR", str(tmp_path))
    built = _tiny_prefilter()
    built.warm()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and all(name.endswith(".hsdb") for name in kept)
    read = _tiny_prefilter()
    read.warm()
    assert sorted(p.name for p in tmp_path.iterdir()) == kept  # (read, not written again)
    for pf in (built, read):
        (ward,), (oak,) = pf._text, pf._low
        may = pf.possible("Bed on ward 7", "bed on ward 7")
        assert ward in may and oak not in may
        may = pf.possible("Oak Street", "oak street")
        assert ward not in may and oak in may


def test_only_the_newest_databases_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDS_PHI_CACHE_DIR", str(tmp_path))
    for i in range(12):
        old = tmp_path / f"{i:064x}.hsdb"
        old.write_bytes(b"an older version's")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    _tiny_prefilter().warm()
    kept = {p.name for p in tmp_path.iterdir()}
    assert len(kept) == prefilter._KEPT
    assert f"{11:064x}.hsdb" in kept and f"{5:064x}.hsdb" not in kept  # (the newest stay)


def test_a_damaged_or_foreign_kept_database_is_built_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDS_PHI_CACHE_DIR", str(tmp_path))
    _tiny_prefilter().warm()
    for path in tmp_path.iterdir():
        path.write_bytes(path.read_bytes()[:40])  # (a half-written or another build's file)
    pf = _tiny_prefilter()
    pf.warm()
    (ward,) = pf._text
    assert ward in pf.possible("ward 12", "ward 12")


def test_an_empty_cache_directory_setting_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDS_PHI_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _tiny_prefilter().warm()
    assert not any(tmp_path.rglob("*.hsdb"))


def test_every_scan_is_compiled_as_its_projection_onto_ascii() -> None:
    # A pattern the projection cannot read would still be compiled (as it is, in UTF-8 mode,
    # a database half again as large and slower between the detector's scans): none does.
    for p, gate in (*_PREFILTER._scans[0], *_PREFILTER._scans[1]):
        assert gates.ascii_projection(gate or p.pattern, p.flags) is not None, p.pattern[:60]


def test_a_projection_matches_wherever_its_pattern_matches() -> None:
    # The corner cases of ascii_projection, read through Hyperscan as the pass reads them: a
    # scan it rules out must have no match in the text itself.
    patterns = [
        r"[^é]x",  # a negated class keeps its ASCII members only ("é" reads as "e")
        r"(?i:[\u212a])elvin",  # the Kelvin sign accepts "k" and "K" case-insensitively
        r"caf[ée]\b",
        r"(?s:a.b)",  # "." across a line break, under a scoped flag
        r"(?m:^b)",  # a line anchor under a scoped flag
        r"(a|b)c\1",  # a back-reference
        r"(a)?(?(1)b|c)d",  # a conditional group: one branch or the other
        r"(?<=[’'])s\b",
        r"(?i)stra(?-i:SSE)",
        r"\d{3}[ ]\d{2}\Z",
        r"x[^\W\d_]+y",
        r"(?>ab|a)bc",
        # a lookahead where the match ends is read as text, with its classes' stand-ins ("—"
        # reads as "-"); one before more of the pattern is dropped
        r"x(?=[—–])",
        r"(?<!\w)(?=(?P<a>[A-Z][a-z]+),[ ](?=[—–]|$))",
        r"(?:q(?=[éu])|w)",
        r"a(?=bc)b",
    ]
    scans = [(re.compile(p), None) for p in patterns]
    pf = prefilter.Prefilter(scans, [(re.compile("zz"), None)])  # (a database needs one)
    texts = ["éx", "ex", "Kelvin", "kelvin", "café", "cafe", "a\nb", "a\nb\nb", "aca", "bcb",
             "it’s", "its", "stra\u00dfe", "strasse", "STRASSE", "123 45", "123 45\n", "xéy",
             "x_y", "abc", "ac", "ABC", "Straße", "x—", "x–", "x-", "xy", "Lopez, —", "Lopez, x",
             "Lopez, ", "qé", "qe", "qa", "abd"]  # fmt: skip
    ruled_out = 0
    for text in texts + [t.upper() for t in texts]:
        may = pf.possible(text, text.lower())
        for rx, _ in scans:
            if rx not in may:
                ruled_out += 1
                assert rx.search(text) is None, (rx.pattern, text)
    assert ruled_out > 50
    # (the lookaheads are read: each scan below is ruled out where only its lookahead fails)
    for pattern, text in (("x(?=[—–])", "xy"), ("(?:q(?=[éu])|w)", "qa")):
        rx = next(rx for rx, _ in scans if rx.pattern == pattern)
        assert rx not in pf.possible(text, text.lower()), pattern


def test_a_scan_written_as_a_lookahead_is_ruled_out_where_it_cannot_match() -> None:
    # "Lopez, Maria" (_LAST_FIRST_RE) is all lookahead: read as text, it no longer passes
    # every text.
    text = "So we talked about it, and it was fine."
    assert detector._LAST_FIRST_RE not in _PREFILTER.possible(text, text.lower())
    text = "Patients: Lopez, Maria (92 y)"
    assert detector._LAST_FIRST_RE.search(text)
    assert detector._LAST_FIRST_RE in _PREFILTER.possible(text, text.lower())
