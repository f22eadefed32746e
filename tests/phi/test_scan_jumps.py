"""Scans that skip ahead to where a match can start must find what the plain scan finds.

app/phi/detector.py runs a few scans from the next digit, month word or last word instead of
trying every position (``_id_candidates``, ``_codes``, ``_long_numbers``, ``_date_numeric``,
``_date_worded``, ``_prev_token``) or behind a first-character gate (``gates.gated``). Each is
checked here against the plain regex call on the committed corpora and on texts built at the
edges (digits of other scripts, case-folding letters, runs of spaces, line breaks, a match one
character away), match for match.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from app.phi import detector, gates
from tests.phi.samples import corpus_texts


def _texts() -> list[str]:
    texts = corpus_texts()
    rng = random.Random(6)
    base = [
        "MRN: 4417-1234, acct #AB-123456, # 12345, ab-12-, x_12 y9 RV1234567/2b and 3-",
        "AB-C1-2-345X, ##A-1234567, ZZ12345Q, 1234-AB, 123-45-678, #٣٤٥٦٧٨٩ and AB٣4567",
        "Seen 03/14/2023, 2023-03-14T10:20, 14 Mar 2023, 4th of July, 12-Mar-23 and 1/2",
        "on March 14th of 2023, sept. '21, SEP 9 2022, mayday May 30th, Dec, decide 2020",
        "Auguſt 3, \u212aelvin, İstanbul 3 June, ٣ March ٢٠٢٠, MRN ٤٥٦٧٨, 12٣45 and ²³⁴",
        "Dr.  Ana   Lopez  and Mc-Donald   O’Neil  x",
        "the twelfth of june, Jan 3rd 1999 jan 3 1999 Janet 4 of 2019",
    ]
    alphabet = "aAjJmMsS019 ,.-/:#\n\t’é٣ſ"
    for text in base:
        texts.append(text)
        for _ in range(60):
            chars = list(text)
            for _ in range(rng.randint(1, 5)):
                chars[rng.randrange(len(chars))] = rng.choice(alphabet)
            texts.append("".join(chars))
    return texts


def _spans(matches: object) -> list[tuple[tuple[int, int], str]]:
    return [(m.span(), m.group(0)) for m in matches]  # type: ignore[attr-defined]


def test_jumping_scans_find_what_the_plain_scans_find() -> None:
    checked = 0
    for text in _texts():
        low = text.lower()
        assert _spans(detector._id_candidates(text)) == _spans(
            detector._ID_CANDIDATE_RE.finditer(text)
        )
        assert _spans(detector._codes(text)) == _spans(detector._CODE_RE.finditer(text))
        assert _spans(detector._long_numbers(text)) == _spans(
            detector._LONG_NUMBER_RE.finditer(text)
        )
        assert _spans(detector._date_numeric(text)) == _spans(detector._DATE_NUMERIC.finditer(text))
        assert _spans(detector._date_worded(text, low)) == _spans(
            detector._DATE_WORDED.finditer(text)
        )
        checked += 1
    assert checked > 500


def test_previous_token_from_the_last_word_is_the_window_search() -> None:
    found = 0
    for text in _texts():
        for start in range(1, len(text), 3):
            lo = max(0, start - 30)
            plain = detector._PREV_TOKEN_RE.search(text, lo, start)
            jumped = detector._prev_token(text, lo, start)
            assert (plain and (plain.span(), plain.group(1))) == (
                jumped and (jumped.span(), jumped.group(1))
            )
            found += plain is not None
    assert found > 1000


def test_a_wrong_skip_is_caught() -> None:
    # The check above can fail: a skip that starts one character late misses matches.
    text = "acct #AB-123456 and x 9876"
    late = re.compile(r"[0-9]")
    plain = _spans(detector._ID_CANDIDATE_RE.finditer(text))
    skipped = _spans(detector._ID_CANDIDATE_RE.finditer(text, late.search(text).start()))  # type: ignore[union-attr]
    assert plain != skipped


def _gated_pairs() -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
    return [
        (detector._NAME_CUE_RE, detector._NAME_CUE_SCAN),
        (detector._PLACE_CUE_RE, detector._PLACE_CUE_SCAN),
    ]


def test_gated_scans_find_what_the_plain_scans_find() -> None:
    pairs = _gated_pairs()
    assert all(gated.pattern != plain.pattern for plain, gated in pairs)  # a gate was built
    found = 0
    for text in _texts():
        for variant in (text, text.lower()):
            for plain, gated in pairs:
                expected = [(m.span(), m.groups()) for m in plain.finditer(variant)]
                assert [(m.span(), m.groups()) for m in gated.finditer(variant)] == expected
                found += len(expected)
    assert found > 300


def test_first_characters_follow_the_pattern() -> None:
    assert gates.first_chars(re.compile(r"(?i:\b(?:ab|c)d)x")) == ("", "ac")
    assert gates.first_chars(re.compile(r"(?:x?y|\bz)")) == ("xyz", "")
    assert gates.first_chars(re.compile(r"a?")) is None  # can match empty
    assert gates.first_chars(re.compile(r"\w+|b")) is None  # a category
    assert gates.first_chars(re.compile(r"(?i)ab")) is None  # global flags: not wrapped
    # A branch added to a pattern is in its gate.
    assert "q" in gates.first_chars(re.compile(r"\b(?:live|quit)\s+in"))[0]  # type: ignore[index]


def test_a_gate_that_misses_a_first_character_is_caught() -> None:
    # The comparison above can fail: a hand-written gate without "s" loses "sent to Ogden".
    text = "she was sent to ogden and lives in provo"
    plain = detector._PLACE_CUE_RE
    wrong = re.compile(r"(?=(?i:[abcdghijlmoprtuw]))(?:" + plain.pattern + ")", plain.flags)
    assert [m.span() for m in wrong.finditer(text)] != [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in detector._PLACE_CUE_SCAN.finditer(text)] == [
        m.span() for m in plain.finditer(text)
    ]


def _lookahead_scans() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (name, rx)
        for name, rx in vars(detector).items()
        if isinstance(rx, re.Pattern) and rx.pattern.startswith("(?=")
    ]


def test_scans_with_a_lookahead_charset_find_what_a_plain_compile_finds() -> None:
    scans = _lookahead_scans()
    # The search hint is compiled in (it adds the class to the compiled code).
    hinted = [
        name
        for name, rx in scans
        if sys.getsizeof(rx) > sys.getsizeof(re.compile(rx.pattern + "(?#plain)", rx.flags))
    ]
    assert {"_CAP_TOKEN_RE", "_FACILITY_RE", "_DATE_NUMERIC", "_DATE_WORDED"} <= set(hinted)
    found = 0
    texts = _texts()[::3]
    for name, rx in scans:
        plain = re.compile(rx.pattern + "(?#plain)", rx.flags)  # compiled without the hint
        for text in texts:
            expected = [(m.span(), m.groups()) for m in plain.finditer(text)]
            assert [(m.span(), m.groups()) for m in rx.finditer(text)] == expected, name
            found += len(expected)
    assert found > 1000


def test_lower_mode_counts_capitals_up_to_one_per_150_characters() -> None:
    rng = random.Random(12)
    for n in range(1, 1200, 7):
        for _ in range(5):
            text = "".join(rng.choice("aZ É\n") if rng.random() < 0.02 else "x" for _ in range(n))
            # (a run of capitals counts once: a serial read out in capitals, "DMPX7Q2LJ4KG")
            capitals = sum(
                1
                for m in detector._UPPER_RE.finditer(text)
                if m.start() == 0 or not detector._UPPER_RE.match(text[m.start() - 1])
            )
            assert detector._lower_mode(text) == (capitals < len(text) / 150), text
    assert detector._lower_mode("caller its DMPX7Q2LJ4KG, the serial " + "x" * 300)
    assert not detector._lower_mode("Caller: It's the Serial. The Clinic. " + "x" * 300)


def test_gated_label_search_before_values_is_the_plain_search() -> None:
    plain, gated = detector._ID_LABEL_BEFORE_RE, detector._ID_LABEL_BEFORE_SCAN
    assert gated.pattern != plain.pattern
    found = 0
    for text in _texts():
        for digit in re.finditer(r"\d", text):
            v = digit.start()
            a = plain.search(text, max(0, v - 45), v)
            b = gated.search(text, max(0, v - 45), v)
            assert (a and (a.span(), a.group(0))) == (b and (b.span(), b.group(0)))
            found += a is not None
    assert found > 200


def test_label_test_before_values_never_rules_out_a_label() -> None:
    # _label_possible skips the label search: it must hold wherever the search finds one.
    found = 0
    for text in [*_texts(), "no.\u20035", "acct.\u00a012345", " . 12345", "#12345", "MRN:\t12345"]:
        for digit in re.finditer(r"\d", text):
            v = digit.start()
            if detector._ID_LABEL_BEFORE_RE.search(text, max(0, v - 45), v):
                assert detector._label_possible(text, v), text[max(0, v - 45) : v]
                found += 1
    assert found > 200


def _accepts(first: str) -> set[str]:
    """The characters of a ``_scan`` first-character class as written ("A-Z" expanded)."""
    spans = re.sub(r"(.)-(.)", lambda m: "".join(map(chr, range(ord(m[1]), ord(m[2]) + 1))), first)
    return set(spans)


def test_every_scan_gate_admits_its_patterns_first_characters() -> None:
    # ``_scan`` puts a hand-written class of first characters in front of its pattern: a
    # character the class leaves out silently loses every match opening with it ("from" in
    # the lower-case place scan, "full name", the indented "Attendees:" line, "drive").
    assert len(detector._SCANS) > 100
    for first, pattern, flags in detector._SCANS:
        opens = gates.first_chars(re.compile(pattern, flags))
        if opens is None:
            continue  # (openers this reading cannot tell: nothing to check)
        exact, folded = opens
        needed = set(exact) | {c for ch in folded for c in (ch.lower(), ch.upper())}
        assert needed <= _accepts(first), (sorted(needed - _accepts(first)), pattern[:80])


def test_every_title_has_its_hint() -> None:
    # The title scan runs only when one of _TITLE_HINTS is in the text: a title without a hint
    # inside it would never be read ("Pastor Mbeki" once was not).
    for title in detector._TITLES.split("|"):
        spelled = title.replace("[Dd]", "D")
        assert any(hint in spelled for hint in detector._TITLE_HINTS), title


def test_every_prefiltered_scan_is_registered() -> None:
    # A scan the detector runs only when the prefilter rules it in (``rx in may``, by name
    # or through the tuple a loop reads) must be one of the prefilter's scans: an
    # unregistered one is never ruled in, so its rule silently never runs.
    source = (Path(__file__).resolve().parents[2] / "app/phi/detector.py").read_text("utf-8")
    names = set(re.findall(r"\b(_[A-Z][A-Z0-9_]*_RE)\b in may\b", source))
    for group in re.findall(r"for rx in \(?([^:]*?)\)?:\n[^\n]*rx in may", source):
        names |= set(re.findall(r"\b_[A-Z][A-Z0-9_]*\b", group))
    scans: list[tuple[str, object]] = []
    for name in sorted(names):
        value = getattr(detector, name)
        members = value if isinstance(value, (tuple, list)) else (value,)
        scans += [(name, rx) for rx in members if isinstance(rx, re.Pattern)]
    registered = set(detector._PREFILTER._text_ids) | set(detector._PREFILTER._low_ids)
    assert len(scans) > 50
    assert not [name for name, rx in scans if id(rx) not in registered]
