"""``gates.compiled`` groups an alternation's branches by the literal they open with; the
pattern must match exactly what ``re.compile`` makes of it: the same spans, the same groups,
at every position (the detector also calls ``match`` at single positions), in hand-built
cases where the order of the branches decides the match, and in every detector pattern.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence

from app.phi import detector, gates
from tests.phi.samples import corpus_texts, mutated

# Patterns where grouping could go wrong: the order of the branches decides which match is
# found (a shorter branch first, a branch that opens otherwise in between, an empty rest),
# groups inside grouped branches, case-insensitive letters that fold to the same lower case,
# non-ASCII literals under IGNORECASE, nested alternations.
_TRICKY = [
    r"(?:a|ab)(?:c|bcd)",
    r"(?:ab|a\w+|ac|a)",
    r"(?:ab|[a-c]b|a|abc)c?",
    r"(?P<x>ma|m)(?:b|mb)?|mab|(?P<y>m)",
    r"(?i:Kb|kB|k|\u212ab|sa|ſb|s)",
    r"(?i:ia|Ib|ı|İa|i)",
    r"(?:é|e|éa|E)(?i:é|É|e)",
    r"\b(?:care|care\s+center|cardiac\s+(?:care|center)|car)\b",
    r"(?:(?:ab|ac)|(?:a|b)|ba|bb)+?c",
    r"(?:x(?:ab|ac|a)|xa|y)*z",
    r"(?=a|ab)(?:ab|a)",
    r"(?<!ab|ac)c|(a)(?(1)b|c)",
]
_ALPHABET = "abcdeékKsSſiIıİmxyz \n"


def _all_matches(rx: re.Pattern[str], text: str) -> list[object]:
    found: list[object] = [(m.span(), m.regs, m.lastindex) for m in rx.finditer(text)]
    for pos in range(len(text) + 1):
        m = rx.match(text, pos)
        found.append(None if m is None else (m.regs, m.lastindex))
    return found


def _assert_compiled_like_re(patterns: Sequence[str], texts: list[str]) -> None:
    """``gates.compiled`` finds what ``re.compile`` finds, with and without IGNORECASE."""
    for pattern in patterns:
        for flags in (0, re.IGNORECASE):
            plain, compiled = re.compile(pattern, flags), gates.compiled(pattern, flags)
            for text in texts:
                assert _all_matches(compiled, text) == _all_matches(plain, text), (pattern, text)


def test_grouped_patterns_match_what_re_compile_matches() -> None:
    rng = random.Random(3)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 14))) for _ in range(400)]
    texts += ["".join(p) for p in itertools.product("abc", repeat=4)]
    _assert_compiled_like_re(_TRICKY, texts)


def _detector_patterns() -> list[re.Pattern[str]]:
    found: dict[int, re.Pattern[str]] = {}
    for value in vars(detector).values():
        items = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if isinstance(item, re.Pattern):
                found[id(item)] = item
    return list(found.values())


def test_every_detector_pattern_matches_what_re_compile_matches() -> None:
    rng = random.Random(9)
    texts = corpus_texts()
    texts += [mutated(t, rng, "aA1 9\n:,.’é-/@#", 4) for t in texts[:40]]
    texts += [t.lower() for t in texts[:40]] + [t.upper() for t in texts[:20]]
    every_position = texts[:12] + texts[-12:]
    patterns = _detector_patterns()
    assert len(patterns) > 100
    for rx in patterns:
        plain = re.compile(rx.pattern, rx.flags)
        for text in texts:
            got = [(m.span(), m.regs) for m in rx.finditer(text)]
            assert got == [(m.span(), m.regs) for m in plain.finditer(text)], rx.pattern[:60]
        for text in every_position:
            for pos in range(len(text)):
                m, p = rx.match(text, pos), plain.match(text, pos)
                assert (m and m.regs) == (p and p.regs), (rx.pattern[:60], pos)


def test_the_detector_compiles_its_patterns_grouped() -> None:
    # A pattern compiled with plain re.compile would still be right, only slower: each
    # detector pattern that has branches to group must be the grouped compilation.
    grouped = 0
    for rx in _detector_patterns():
        if re.compile(rx.pattern, rx.flags) == gates.compiled(rx.pattern, rx.flags):
            continue  # nothing to group
        with gates.lookahead_charsets():
            hinted = gates.compiled(rx.pattern, rx.flags)
        assert rx in (gates.compiled(rx.pattern, rx.flags), hinted), rx.pattern[:60]
        grouped += 1
    assert grouped > 20


def test_branches_are_grouped_by_their_first_literal() -> None:
    def branches(pattern: str, flags: int = 0) -> int:
        tree = gates._parser.parse(pattern, flags)
        gates._group_branches(tree.data, bool(tree.state.flags & re.IGNORECASE))
        return len(tree.data[0][1][1])

    assert branches("ma|hb|mc|hd") == 2
    assert branches("ma|hb|[mn]c|hd") == 4  # a class in between: the runs either side of it
    assert branches("ma|MB|hb", re.IGNORECASE) == 2
    assert branches("éa|ÉB|hb", re.IGNORECASE) == 3  # non-ASCII: Unicode folding, left alone


# Repeats that ``compiled`` makes possessive, and near misses it must leave alone: what
# follows may start with a repeated character (under IGNORECASE too), may be empty, opens
# with a class or a category, or sits in a group, a branch or a lookahead.
_POSSESSIVE_TRICKY = [
    r"[a-z]+\s+x",
    r"[a-z]+\.?\s",
    r"[a-z]+\.?[ a]",
    r"[A-Z][a-z]*(?:-[a-z]+)?\s+(?:a|b)",
    r"\d{1,3}(?:st|nd)?\b",
    r"\d{1,3}(?:st|nd|1)",
    r"[^,]*,\s*\w+",
    r"[^,]*[,a]",
    r"\w+\s+\w+\s",
    r"\w+\d",
    r"\s*\S+\s",
    r"(?:a+b|a+)+c",
    r"(?=[a-z]+\s)[a-z]+",
    r"(?<=a)b+c",
    r"k+(?i:K)",
    r"(?i:k+)\u212a",
    r"s+(?i:ſ)",
    r"[ab]+(?:c|d?)b",
    r"a{2,}b{0,2}ab",
    r"[a-z]+(?!c)",
    r"[a-z]+\B",
    r"[a-z]+(?:\b|\d)",
    r"[a-z]+(?=\s)?",
    r"(?:[a-z]+\.?)+",
    r"(?:ab+)+b",
    r"x(?:[ab]+|c)(?:d|b)?",
    r"(?>a+)a",
    r"(a+)\1",
    # Neighbouring branches that open with the same possessive repeat share it.
    r"\s+a|\s+ab|x|\s+b|\s+",
    r"(?:\s+a(?P<g>b)?|\s+(?P<h>a)c|\s*b)",
    r"[a-z]+1|[a-z]+2|[a-z]+a|[a-z]+3",
    r"(?:\s+(?:a|)|\s+b)c",
    r"(?i:k+1|k+2|K+\u212a)",
]


def test_possessive_repeats_match_what_re_compile_matches() -> None:
    rng = random.Random(5)
    alphabet = "abcdkKsSſ\u212a1 ,.-\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(600)]
    texts += ["".join(p) for p in itertools.product("ab ,", repeat=4)]
    _assert_compiled_like_re(_POSSESSIVE_TRICKY, texts)


def test_repeats_are_possessive_only_before_what_they_cannot_give_back() -> None:
    def possessive(pattern: str, flags: int = 0) -> int:
        tree = gates._parser.parse(pattern, flags)
        gates._possessive(tree.data, bool(tree.state.flags & re.IGNORECASE), [])
        return sum(op is gates._c.POSSESSIVE_REPEAT for op, _ in tree.data)

    assert possessive(r"[a-z]+\s") == 1
    assert possessive(r"[a-z]+\.?\s") == 2  # "." or a space after the letters; a space after "."
    assert possessive(r"[a-z]+\.?") == 2  # nothing follows the end of the pattern
    assert possessive(r"[a-z]+(?!c)") == 0  # may hold after fewer letters where it failed
    assert possessive(r"(?:[a-z]+\.?)+") == 0  # another round may open with a letter
    assert possessive(r"[a-z]+[ a]") == 0
    assert possessive(r"k+K", re.IGNORECASE) == 0
    assert possessive(r"\w+\s\d+\s") == 2
    assert possessive(r"\w+\d") == 0
    assert possessive(r"a{3}b") == 0  # a fixed count gives nothing back anyway


def test_branches_share_the_possessive_repeat_they_open_with() -> None:
    def branches(pattern: str) -> int:
        tree = gates._parser.parse(pattern, 0)
        gates._possessive(tree.data, False, [])
        return len(tree.data[0][1][1])

    assert branches(r"\s+said|\s+told|,\s+you|\s+knew") == 3  # neighbours only
    assert branches(r"[a-z]+1|[a-z]+a|[a-z]+2") == 3  # "[a-z]+a" gives back: not shared


def test_white_space_is_never_a_word_character() -> None:
    # The categories ``gates._possessive`` takes as disjoint, over every code point.
    space = re.compile(r"\s")
    word = re.compile(r"[\w\d]")
    assert not any(space.match(c) and word.match(c) for c in map(chr, range(0x110000)))


# Alternations of lookbehinds (a cue word before a value): the guard must not change what
# matches, whether the branches end in one character or in several, open with more than the
# lookbehind, or sit inside a group, a repeat or a lookahead.
_LOOKBEHINDS = [
    r"(?:(?<=\bat )|(?<=\bto )|(?<=\b(?i:on) ))[a-z]+",
    r"(?:(?<=a:)|(?<=b )|(?<=c:))x",
    r"(?:(?<=a )x|(?<=b )y|(?<=c )[xy]+)",
    r"(?:(?<=a)|(?<=b ))x",  # (a branch ends in a letter: no guard)
    r"(?:(?<=a )|z)x",  # (a branch opens otherwise: no guard)
    r"(?=x)(?:(?:(?<=a )|(?<=b ))x)+",
    r"(?<=(?:(?<=a )|(?<=b ))x)y",
]


def test_guarded_lookbehinds_match_what_re_compile_matches() -> None:
    rng = random.Random(5)
    texts = [
        "".join(rng.choice("abcxyz :\n") for _ in range(rng.randint(0, 14))) for _ in range(600)
    ]
    texts += ["at x to y on z", "a x b y c xy", "a:x c:x", "ax b x"]
    _assert_compiled_like_re(_LOOKBEHINDS, texts)


def test_an_alternation_of_lookbehinds_is_put_behind_their_last_character() -> None:
    def guards(pattern: str) -> list[object]:
        tree = gates._parser.parse(pattern, 0)
        gates._guard_lookbehinds(tree.data)
        return [av[1].data for op, av in tree.data if op is gates._c.ASSERT and av[0] == -1]

    space, colon = (gates._c.LITERAL, 32), (gates._c.LITERAL, 58)
    assert guards(r"(?:(?<=\bat )|(?<=\bto ))x") == [[space]]
    assert guards(r"(?:(?<=a:)|(?<=b ))x") == [[(gates._c.IN, [space, colon])]]
    assert guards(r"(?:(?<=a)|(?<=b ))x") == []
    assert guards(r"(?:(?<=a )|z)x") == []
