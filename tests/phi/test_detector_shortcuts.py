"""The detector's shortcuts find what the plain scans they stand for find (app/phi/detector.py).

Several scans are run a cheaper way that must give the same matches: tried at line starts
only, from the digits a match must open with, at the places a case-insensitive cue matches
the lower-cased text, or case-sensitively over the lower-cased copy of an ASCII text. Each
rests on a property of its pattern (said where it is defined); a rule edited so that the
property no longer holds fails here rather than silently changing what is redacted.
"""

from __future__ import annotations

import random
import re

from app.phi import detector as d
from tests.phi.samples import corpus_texts, mutated, plain_module


def _texts() -> list[str]:
    rng = random.Random(5)
    base = [
        *corpus_texts(),
        "Interviewer: hi\nMarta (nurse): we moved out to Bend.\n  Bo: yes\nplan: none",
        "she lives with us in laramie. i'm in Ogden, he's 93, ninety-one or 101 or 9",
        "rhea dot patel at gmail dot com, RHEA DOT PATEL AT GMAIL DOT COM",
        "my sister ines said so; MY SISTER INES; call Tomasz; this is rhea",
    ]
    out = []
    for text in base:
        out += [text, text.lower(), text.upper(), mutated(text, rng, "aA1 9\n:,.’é", 3)]
    return out


def _spans(matches: object) -> list[tuple[int, int]]:
    return [m.span() for m in matches]  # type: ignore[attr-defined]


def test_speaker_labels_are_the_scans_matches() -> None:
    for text in _texts():
        assert _spans(d._speaker_labels(text)) == _spans(d._SPEAKER_RE.finditer(text))


def test_age_candidates_are_the_scans_matches() -> None:
    for text in _texts():
        low = text.lower()
        if len(low) == len(text):
            assert _spans(d._age_candidates(low)) == _spans(d._AGE_CAND_RE.finditer(low))


def test_place_cues_are_the_scans_matches() -> None:
    for text in _texts():
        low = text.lower()
        found = [(m.span(), m.span("p")) for m in d._place_cues(text, low)]
        assert found == [(m.span(), m.span("p")) for m in d._PLACE_CUE_SCAN.finditer(text)]


def test_folded_scans_find_the_same_spans_in_ascii_text() -> None:
    pairs: list[tuple[re.Pattern[str], re.Pattern[str], tuple[str, ...]]] = [
        (d._SPOKEN_EMAIL_RE, d._SPOKEN_EMAIL_LOW_RE, ()),
        (d._NAME_CUE_SCAN, d._NAME_CUE_LOW_SCAN, ("n", "strong", "intro")),
    ]
    for text in _texts():
        if not text.isascii():
            continue
        low = text.lower()
        for scan, folded, groups in pairs:
            want = [(m.span(), *(m.span(g) for g in groups)) for m in scan.finditer(text)]
            got = [(m.span(), *(m.span(g) for g in groups)) for m in folded.finditer(low)]
            assert got == want, scan.pattern[:40]


def test_place_cues_end_in_a_place_cue_word() -> None:
    """`_cap_name_spans` calls `_place_cue` only when the last word before a token is in
    `_PLACE_CUE_LAST`: for any other last word it must say no place follows. Checked on
    every list of up to three words from the sets `_place_cue` reads and the words its
    rules name (a rule reaching further back still ends in one of these words)."""
    vocabulary = sorted(
        d._PLACE_PREP
        | d._SIDE_OF
        | d._ADVERB
        | d._MOTION
        | d._OBJECTS
        | d._RESIDENCE
        | d._PLACE_SUBJECT
        | d._PERSON_FROM
        | d._MOVED
        | d._FROM_SUBJECT
        | {"over,", "all", "from", "just", "far", "out", "with", "92-year-old", "said", "the"}
    )
    lasts = [w for w in vocabulary if w not in d._PLACE_CUE_LAST]
    checked = 0
    for last in lasts:
        for before in [(), *((a,) for a in vocabulary)]:
            for first in [(), *((a,) for a in vocabulary)] if before else [()]:
                words = [*first, *before, last]
                assert d._place_cue(words) is False, words
                checked += 1
    assert checked > 100_000


def _words_read_by(func: object, per_set: int | None = None) -> set[str]:
    """Every word a function compares with: its string constants and the members of the
    module-level word sets and pairs it names (so a rule added there is in the test too);
    with ``per_set``, only that many members of each set (stand-ins for the rest)."""
    # The plain module's function: a native build's functions have no code object.
    code = getattr(plain_module("detector"), func.__name__).__code__  # type: ignore[attr-defined]
    found: set[str] = set()

    def add(value: object, limit: int | None) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, (tuple, list, frozenset, set)):
            items = sorted(value, key=str)
            for item in items[:limit] if isinstance(value, (frozenset, set)) else items:
                add(item, None)

    for const in code.co_consts:
        add(const, None)
    for name in code.co_names:
        add(getattr(d, name, None), per_set)
    return {w for w in found if w and " " not in w and len(w) < 30}


def test_name_cues_end_in_a_name_cue_word() -> None:
    """`_cap_name_spans` calls `_name_cue` only when the last word before a token (trailing
    commas off) is in `_NAME_CUE_LAST`: for any other last word it must find no cue. Checked
    with every word `_name_cue` reads as the last word (with commas), after every pair of
    words it reads (a few of each set's), and after random runs of up to five of them."""
    vocabulary = sorted(_words_read_by(d._name_cue) | {"said", "the", "a", "x"})
    few = sorted(_words_read_by(d._name_cue, per_set=2) | {"x"})
    lasts = [w for w in vocabulary if w.rstrip(",") not in d._NAME_CUE_LAST]
    assert len(vocabulary) > 200 and len(lasts) > 100
    pairs = [[a, b] for a in few for b in few] + [[b] for b in few] + [[]]
    rng = random.Random(5)
    checked = 0
    for base in lasts:
        for last in (base, base + ",", base + ",,"):
            runs = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 5))] for _ in range(100)]
            for run in (pairs if not last.endswith(",,") else []) + runs:
                assert d._name_cue([*run, last]) is None, [*run, last]
                checked += 1
    assert checked > 500_000


def _city_at_every_chunk(text: str, start: int, lex: d._Lexicon) -> int:
    """`_city_at` as first written: every chunk of the next words, longest first, checked
    for spacing and capitals on its own (the detector stops gathering at the first break)."""
    w = d._WORD_RE.match(text, start)
    if not w:
        return 0
    key = w.group(0).lower()
    first = key if key in lex.cities else key.rstrip(".")
    candidates = lex.cities.get(first)
    if candidates is None:
        return 0
    words = [w]
    limit = min(start + 60, len(text))
    for _ in range(lex.city_words[first] - 1):
        nxt = d._WORD_RE.search(text, words[-1].end(), limit)
        if nxt is None:
            break
        words.append(nxt)
    for n in range(len(words), 0, -1):
        chunk = words[:n]
        if any(chunk[i + 1].start() - chunk[i].end() != 1 for i in range(n - 1)):
            continue
        if not all(c.group(0)[0].isupper() for c in chunk):
            continue
        phrase = " ".join(c.group(0).lower() for c in chunk)
        if phrase in candidates:
            return chunk[-1].end()
        if phrase.rstrip(".") in candidates:
            return chunk[-1].end() - (len(phrase) - len(phrase.rstrip(".")))
    return 0


def test_city_at_finds_what_every_chunk_finds() -> None:
    lex = d._lexicon()
    rng = random.Random(8)
    cities = sorted(c for cs in lex.cities.values() for c in cs if " " in c)[:400]
    texts = _texts() + [
        mutated(f"We drove to {c.title()}  {c.title()}. {c.upper()}, {c}.", rng, "aA. ,\n", 2)
        for c in cities
    ]
    checked = found = 0
    for text in texts:
        for m in d._WORD_RE.finditer(text):
            for start in (m.start(), m.start() + 1):
                got = d._city_at(text, start, lex)
                assert got == _city_at_every_chunk(text, start, lex), (text, start)
                checked += 1
                found += got > 0
    assert checked > 10_000 and found > 300


def test_no_module_level_name_is_bound_twice() -> None:
    """A rule's pattern given a name another rule's pattern already has replaces it for both
    (session 31 shadowed _NAME_THEN_KIN_RE so, and "It's grace, my daughter" leaked)."""
    import ast
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "app/phi/detector.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    twice = []
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names = [node.name]
        for name in names:
            if name in seen:
                twice.append((name, seen[name], node.lineno))
            seen[name] = node.lineno
    assert not twice
