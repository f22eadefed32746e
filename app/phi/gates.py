"""First-character gates for scanning regexes, read from the parsed pattern.

Python's regex engine tries a pattern at every position of the text unless the pattern opens
with a literal or a character class. A scan that opens with ``\\b`` and a long alternation
of words pays for the whole alternation at every position. ``gated(rx)`` puts a lookahead
for the characters a match of ``rx`` can start with in front of it: at most positions the
engine then fails on one class test. The class is computed from ``rx``'s own parse tree
(not written by hand), so a branch added to the pattern later is in it too; a pattern whose
first characters cannot be told (it can match empty, or opens with ``.``, ``\\w``, a negated
class, a back-reference) is returned unchanged. The matches are the same: no match of ``rx``
starts with a character outside the class.
"""

from __future__ import annotations

import importlib
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_compiler: Any = importlib.import_module("re._compiler")
_sre: Any = importlib.import_module("_sre")
_WORD_CHAR_RE = re.compile(r"\w")
_MAX_RANGE = 0x3000  # a class range wider than this is left to the pattern (no gate)
_GLOBAL_FLAGS_RE = re.compile(r"\(\?[aiLmsux]+\)")


Openers = list[tuple[Any, bool]]  # one-character items, each with its case-insensitivity


def _class(chars: list[str]) -> str:
    return "".join("\\" + c if c in "\\]^-[" else c for c in sorted(chars))


def first_chars(rx: re.Pattern[str]) -> tuple[str, str] | None:
    """The characters a match of ``rx`` can start with: (compared as written, compared
    case-insensitively), or None when that cannot be told (``_openers``, then each opening
    item's characters: ``_chars``)."""
    if _GLOBAL_FLAGS_RE.match(rx.pattern):
        return None  # read only patterns that can be wrapped (global flags must lead)
    parsed = _parser.parse(rx.pattern, rx.flags)
    openers: Openers = []
    ci = bool(parsed.state.flags & re.IGNORECASE)
    if _openers(parsed.data, ci, openers, past_assertions=True) is not False:
        return None
    out: dict[str, bool] = {}  # character -> compared case-insensitively somewhere
    for item, item_ci in openers:
        chars = _chars(item)
        if chars is None:
            return None  # a category, a negation, a wide range
        for c in chars:
            out[c] = out.get(c, False) or item_ci
    return (
        "".join(sorted(c for c, folded in out.items() if not folded)),
        "".join(sorted(c for c, folded in out.items() if folded)),
    )


def gated(rx: re.Pattern[str]) -> re.Pattern[str]:
    """``rx`` behind a lookahead for the characters a match can start with (see above);
    ``rx`` itself when they cannot be told. Same groups, same flags, same matches."""
    firsts = first_chars(rx)
    if firsts is None:
        return rx
    plain, cased = firsts
    parts = ([f"[{_class(list(plain))}]"] if plain else []) + (
        [f"(?i:[{_class(list(cased))}])"] if cased else []
    )
    gate = f"(?={'|'.join(parts)})" if len(parts) == 1 else f"(?=(?:{'|'.join(parts)}))"
    # A match that opens with a word boundary and then a word character follows a non-word
    # character (or the start): one more cheap test before the alternation.
    parsed = _parser.parse(rx.pattern, rx.flags)
    head = parsed.data[0] if parsed.data else None
    while head is not None and head[0] is _c.SUBPATTERN and head[1][3].data:
        head = head[1][3].data[0]
    if head == (_c.AT, _c.AT_BOUNDARY) and all(_WORD_CHAR_RE.match(c) for c in plain + cased):
        gate += r"(?<!\w)"
    with lookahead_charsets():
        return compiled(f"{gate}(?:{rx.pattern})", rx.flags)


@contextmanager
def lookahead_charsets() -> Iterator[None]:
    """Within this block, ``re.compile`` also takes a pattern's first-character set from a
    lookahead it opens with (``(?=[A-Z])...``), as it does from a class it opens with.

    When a pattern opens with a character class, the engine's search skips in C from one
    character of that class to the next and tries the pattern only there; a pattern that
    opens with a lookahead instead is entered at every position, so a scan written as
    ``(?=[first])(?:\\b...)`` paid for a call into the matcher per character. The class of
    the lookahead is a necessary condition of a match at a position just the same (a match
    of at least one character starts with a character that the lookahead accepted), so
    the search finds the same matches. Only the compiled search hint changes; the pattern,
    its groups and its matches do not. (The hook is CPython's own compiler step,
    ``re._compiler._get_charset_prefix``; without it nothing changes but the speed.)
    """
    original = getattr(_compiler, "_get_charset_prefix", None)
    if original is None:  # pragma: no cover - another Python's compiler
        yield
        return

    def charset_prefix(pattern: Any, flags: int) -> Any:
        found = original(pattern, flags)
        if found is None and pattern.data:
            op, av = pattern.data[0]
            if op is _c.ASSERT and av[0] == 1:  # a lookahead (1: ahead, -1: behind)
                return original(av[1], flags)
        return found

    _compiler._get_charset_prefix = charset_prefix
    try:
        yield
    finally:
        _compiler._get_charset_prefix = original


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, with the branches of each alternation grouped by the
    literal character they open with: the same pattern, the same matches, fewer branches
    tried at each position.

    At a position, the engine tries an alternation's branches in order; one that opens with
    a literal fails on it at once, yet every branch costs a step, and a case-insensitive
    literal (``(?i:disease|syndrome|...)``) is no quick test at all: the engine jumps into
    each branch. Grouped, ``(?:memorial|medical|hospital|mercy)`` is tried as
    ``(?:m(?:emorial|edical|ercy)|hospital)``. Nothing else changes: the branches that can
    match at a position are exactly those opening with its character, and they keep their
    order (a branch moved ahead of another passes only branches that open with a different
    character, which fail there), so the first branch that leads to a match is the one it
    was. Only consecutive branches that open with a literal are grouped (a branch that
    opens otherwise stays where it is, between them), and under ``re.IGNORECASE`` only ASCII
    literals, grouped by their lower case (which the engine itself compares). Groups keep
    their numbers. The search hints the compiler derives (``lookahead_charsets``) still
    apply: compile inside that block as before.

    Then a greedy repeat of one character that what follows it cannot start with is made
    possessive (``_possessive``): the same matches, without retrying the rest of the pattern
    at every shorter length of the repeat; neighbouring branches that open with the same
    possessive repeat share it (``_shared_openings``). Last, an alternation whose branches
    each open with a lookbehind ending in a space (``(?<=\\bat )|(?<=\\bto )``) is put behind
    one lookbehind of that character (``_guard_lookbehinds``).
    """
    try:
        tree = _parser.parse(pattern, flags)
        _group_branches(tree.data, bool(tree.state.flags & re.IGNORECASE))
        _possessive(tree.data, bool(tree.state.flags & re.IGNORECASE), [])
        _guard_lookbehinds(tree.data)
        code = _compiler._code(tree, flags)
        groupindex = tree.state.groupdict
        indexgroup: list[str | None] = [None] * tree.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        rx: re.Pattern[str] = _sre.compile(
            pattern, flags | tree.state.flags, code, tree.state.groups - 1, groupindex,
            tuple(indexgroup),
        )  # fmt: skip
    except (AttributeError, TypeError):  # pragma: no cover - another Python's internals
        return re.compile(pattern, flags)
    return rx


def _lookbehind_end(branch: Any) -> int | None:
    """The character a branch's opening lookbehind ends in, when it is one that no case
    folding changes (a space, a colon); None when the branch opens otherwise."""
    if not branch.data or branch.data[0][0] is not _c.ASSERT or branch.data[0][1][0] != -1:
        return None
    body = branch.data[0][1][1].data
    if not body or body[-1][0] is not _c.LITERAL:
        return None
    char = chr(body[-1][1])
    return body[-1][1] if char.lower() == char.upper() else None


def _guard_lookbehinds(items: Any) -> None:
    """Put each alternation whose branches all open with a lookbehind ending in one of a few
    uncased characters behind a lookbehind of those characters, in place: the same matches
    (a branch can pass only where the character before is one of them), but at the other
    positions the engine tries one lookbehind instead of each branch's (``(?:(?<=\\b[Aa]t[ ])
    |(?<=\\b[Tt]o[ ])|...)`` at every letter of a text; twice as fast a scan)."""
    i = 0
    while i < len(items):
        op, av = items[i]
        if op is _c.SUBPATTERN:
            _guard_lookbehinds(av[3].data)
        elif op in _REPEATS:
            _guard_lookbehinds(av[2].data)
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            _guard_lookbehinds(av[1].data)
        elif op is _c.ATOMIC_GROUP:
            _guard_lookbehinds(av.data)
        elif op is _c.BRANCH:
            for branch in av[1]:
                _guard_lookbehinds(branch.data)
            ends = [_lookbehind_end(branch) for branch in av[1]]
            chars = sorted({end for end in ends if end is not None})
            if len(ends) > 1 and None not in ends:
                state = av[1][0].state
                guard = (
                    [(_c.LITERAL, chars[0])]
                    if len(chars) == 1
                    else [(_c.IN, [(_c.LITERAL, c) for c in chars])]
                )
                items.insert(i, (_c.ASSERT, (-1, _parser.SubPattern(state, guard))))
                i += 1
        i += 1


def _group_key(item: tuple[Any, Any], ci: bool) -> int | None:
    """The character a branch's first item compares with (None: not a groupable literal)."""
    op, av = item
    if op is not _c.LITERAL:
        return None
    if not ci:
        return int(av)
    if av >= 128:
        return None  # Unicode case folding: leave to the engine
    return ord(chr(av).lower())


def _group_branches(items: Any, ci: bool) -> None:
    """Group the alternations' branches in a parsed pattern, in place (see ``compiled``)."""
    for i, (op, av) in enumerate(items):
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            _group_branches(
                sub.data, (ci or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
            )
        elif op is _c.BRANCH:
            for branch in av[1]:
                _group_branches(branch.data, ci)
            items[i] = (op, (av[0], _grouped(av[1], ci)))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            _group_branches(av[2].data, ci)
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            _group_branches(av[1].data, ci)
        elif op is _c.ATOMIC_GROUP:
            _group_branches(av.data, ci)
        elif op is _c.GROUPREF_EXISTS:
            _group_branches(av[1].data, ci)
            if av[2] is not None:
                _group_branches(av[2].data, ci)


_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
_ONE_CHAR = (_c.LITERAL, _c.NOT_LITERAL, _c.IN)
# Classes no character is in both of (Unicode: no white space is a letter, digit or "_").
_DISJOINT_CATEGORIES = {
    frozenset({_c.CATEGORY_SPACE, _c.CATEGORY_WORD}),
    frozenset({_c.CATEGORY_SPACE, _c.CATEGORY_DIGIT}),
}


def _openers(
    items: Any, ci: bool, out: list[tuple[Any, bool]], past_assertions: bool = False
) -> bool | None:
    """Add the one-character items (with their case-insensitivity) that a match of the
    sequence ``items`` can open with to ``out``. False when the sequence cannot match the
    empty string, True when it can (what follows it opens the match then), None when its
    openings cannot be told, or when it can be empty past an assertion (``\\B``,
    ``(?!x)``: one that may hold after a shorter repeat where it failed after the longest),
    unless ``past_assertions``: then it is True there too (for the first characters of a
    match, an assertion only narrows where what follows may open it)."""
    asserted = False
    for op, av in items:
        empty: bool | None
        if op in _ONE_CHAR:
            out.append(((op, av), ci))
            return False
        if op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
            asserted = True  # zero-width: the first character is that of what follows
            continue
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            inner = (ci or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
            empty = _openers(sub.data, inner, out, past_assertions)
        elif op is _c.BRANCH:
            empty = False
            for branch in av[1]:
                e = _openers(branch.data, ci, out, past_assertions)
                if e is None:
                    return None
                empty = empty or e
        elif op in _REPEATS:
            e = _openers(av[2].data, ci, out, past_assertions)
            empty = None if e is None else (e or av[0] == 0)
        elif op is _c.ATOMIC_GROUP:
            empty = _openers(av.data, ci, out, past_assertions)
        else:
            return None
        if empty is not True:
            return empty
    return None if asserted and not past_assertions else True


def _chars(item: tuple[Any, Any]) -> list[str] | None:
    """Every character a case-sensitive one-character item accepts, when they are few."""
    op, av = item
    if op is _c.LITERAL:
        return [chr(av)]
    if op is not _c.IN:
        return None
    out: list[str] = []
    for o, a in av:
        if o is _c.LITERAL:
            out.append(chr(a))
        elif o is _c.RANGE and a[1] - a[0] <= _MAX_RANGE:
            out += map(chr, range(a[0], a[1] + 1))
        else:
            return None  # a category, a negation, a wide range
    return out


def _disjoint(a: tuple[Any, Any], a_ci: bool, b: tuple[Any, Any], b_ci: bool) -> bool:
    """True when no character is accepted by both one-character items (False: not known)."""
    for x, x_ci, y, y_ci in ((a, a_ci, b, b_ci), (b, b_ci, a, a_ci)):
        chars = None if x_ci else _chars(x)
        if chars is not None:
            other = _atom(*y, y_ci)
            return not any(other.fullmatch(c) for c in chars)
    categories = []
    for op, av in (a, b):
        if op is not _c.IN or len(av) != 1 or av[0][0] is not _c.CATEGORY:
            return False
        categories.append(av[0][1])
    return frozenset(categories) in _DISJOINT_CATEGORIES


def _following(items: Any, ci: bool, follow: Openers | None) -> Openers | None:
    """What a match can go on with from the start of ``items`` (see ``_possessive``): the
    openings of ``items`` (what comes next inside), then ``follow`` when ``items`` may be
    empty; None when that cannot be told."""
    after: Openers = []
    empty = _openers(items, ci, after)
    if empty is None or (empty and follow is None):
        return None
    return after + follow if empty and follow is not None else after


def _possessive(items: Any, ci: bool, follow: Openers | None = None) -> None:
    """Make a greedy repeat of one character possessive, in place, where what can follow it
    cannot start with a character it repeats (``[a-z]+\\s``, ``\\d{1,6}[ ]``, ``[^,]*,``,
    ``[A-Z][a-z]*\\.?`` before a space). The same matches: giving a character of the repeat
    back leaves that character where what follows must match, and it cannot; the engine
    only stops retrying the rest of the pattern at every shorter length.

    ``follow``: the openings of what can come after ``items`` (``[]`` when nothing can: the
    end of the pattern, of a lookahead or of an atomic group, none of which is re-entered
    once it has matched), None when unknown."""
    for i, (op, av) in enumerate(items):
        if op in (_c.SUBPATTERN, _c.BRANCH) or op in _REPEATS:
            after = _following(items[i + 1 :], ci, follow)  # what follows this item
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            inner = (ci or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
            _possessive(sub.data, inner, after)
        elif op is _c.BRANCH:
            for branch in av[1]:
                _possessive(branch.data, ci, after)
            items[i] = (op, (av[0], _shared_openings(av[1], ci)))
        elif op in _REPEATS:
            body = av[2].data
            # After one round of the repeat: another round, or what follows the repeat.
            again = _following(body, ci, after)
            _possessive(body, ci, None if again is None or after is None else again + after)
            if op is not _c.MAX_REPEAT or av[0] == av[1] or len(body) != 1:
                continue
            if body[0][0] not in _ONE_CHAR or after is None:
                continue
            if all(_disjoint(body[0], ci, nxt, nxt_ci) for nxt, nxt_ci in after):
                items[i] = (_c.POSSESSIVE_REPEAT, av)
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            if av[0] == 1:  # (not in lookbehinds: those are matched backwards)
                _possessive(av[1].data, ci, [])
        elif op is _c.ATOMIC_GROUP:
            _possessive(av.data, ci, [])


def _opening_key(branch: Any) -> str | None:
    """A branch's possessive first item, written out (None: it opens otherwise)."""
    if branch.data and branch.data[0][0] is _c.POSSESSIVE_REPEAT:
        return repr(branch.data[0])
    return None


def _shared_openings(branches: list[Any], ci: bool) -> list[Any]:
    """Neighbouring branches that open with the same possessive repeat, as that repeat then
    their rests (``\\s++said|\\s++told`` as ``\\s++(?:said|told)``), the rests grouped by
    their first literal: the same matches. A possessive repeat takes the same characters
    whichever branch it opens, so both try the first rest, then the second, ... after the
    same characters; the engine no longer matches the repeat again for each branch."""
    out: list[Any] = []
    for key, run in itertools.groupby(branches, key=_opening_key):
        same = list(run)
        if key is None or len(same) == 1:
            out += same
            continue
        state = same[0].state
        rests = [_parser.SubPattern(state, b.data[1:]) for b in same]
        tail = (_c.BRANCH, (None, _grouped(rests, ci)))
        out.append(_parser.SubPattern(state, [same[0].data[0], tail]))
    return out


def _grouped(branches: list[Any], ci: bool) -> list[Any]:
    out: list[Any] = []
    run: dict[int, list[Any]] = {}  # consecutive literal-first branches, by first character

    def flush() -> None:
        for group in run.values():
            if len(group) == 1:
                out.append(group[0])
                continue
            state = group[0].state
            rests = [_parser.SubPattern(state, b.data[1:]) for b in group]
            tail = (_c.BRANCH, (None, _grouped(rests, ci)))
            out.append(_parser.SubPattern(state, [group[0].data[0], tail]))
        run.clear()

    for branch in branches:
        key = _group_key(branch.data[0], ci) if branch.data else None
        if key is None:
            flush()
            out.append(branch)
        else:
            run.setdefault(key, []).append(branch)
    flush()
    return out


def literal_prefixes(rx: re.Pattern[str]) -> list[str] | None:
    """Literal strings one of which every match of ``rx`` opens with (after zero-width
    assertions), read from its parse tree; None when that cannot be told (a branch that opens
    with a class, a repeat that may be skipped, case-insensitive letters, an empty match)."""
    if rx.flags & re.IGNORECASE or _GLOBAL_FLAGS_RE.match(rx.pattern):
        return None
    found = _prefixes(list(_parser.parse(rx.pattern, rx.flags).data))
    return sorted(set(found)) if found else None


_NESTS = (_c.BRANCH, _c.SUBPATTERN)


def _prefixes(items: list[Any]) -> list[str] | None:
    i = 0
    while i < len(items) and items[i][0] in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        i += 1  # zero-width: the match opens with what follows
    if i == len(items):
        return None
    op, av = items[i]
    if op is _c.LITERAL:
        run = ""
        while i < len(items) and items[i][0] is _c.LITERAL:
            run += chr(items[i][1])
            i += 1
        # The parser takes a shared opening out of an alternation ("c(?:are|onvalescent)"):
        # continue into the alternation that follows, when its openings can be told.
        rest = _prefixes(items[i : i + 1]) if i < len(items) and items[i][0] in _NESTS else None
        return [run + r for r in rest] if rest else [run]
    if op is _c.BRANCH:
        out: list[str] = []
        for branch in av[1]:
            found = _prefixes(list(branch.data))
            if not found:
                return None
            out += found
        return out
    if op is _c.SUBPATTERN:
        _group, add, remove, sub = av
        if (add | remove) & re.IGNORECASE:
            return None
        return _prefixes(list(sub.data))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _prefixes(list(av[2].data))
    return None


_CATEGORIES = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
}


def _atom(op: Any, av: Any, ci: bool) -> re.Pattern[str]:
    """A one-character pattern that accepts what the parsed item ``(op, av)`` accepts."""
    if op is _c.ANY:
        return re.compile(".")
    items = [(_c.LITERAL, av)] if op in (_c.LITERAL, _c.NOT_LITERAL) else av
    negate = "^" if op is _c.NOT_LITERAL else ""
    parts = []
    for o, a in items:
        if o is _c.NEGATE:
            negate = "^"
        elif o is _c.LITERAL:
            parts.append(f"\\U{a:08x}")
        elif o is _c.RANGE:
            parts.append(f"\\U{a[0]:08x}-\\U{a[1]:08x}")
        else:
            parts.append(_CATEGORIES[a])  # (a KeyError: an item this reading does not know)
    return re.compile(f"[{negate}{''.join(parts)}]", re.IGNORECASE if ci else 0)


def _atoms(items: Any, ci: bool, out: list[re.Pattern[str]]) -> None:
    """The one-character items of a parsed pattern that Hyperscan's prefilter mode keeps
    (not those in lookarounds or back-references, which it widens away)."""
    for op, av in items:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.ANY):
            out.append(_atom(op, av, ci))
        elif op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            _atoms(sub.data, (ci or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE, out)
        elif op is _c.BRANCH:
            for branch in av[1]:
                _atoms(branch.data, ci, out)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            _atoms(av[2].data, ci, out)
        elif op is _c.ATOMIC_GROUP:
            _atoms(av.data, ci, out)
        elif op is _c.GROUPREF_EXISTS:
            _atoms(av[1].data, ci, out)
            if av[2] is not None:
                _atoms(av[2].data, ci, out)
        elif op not in (_c.AT, _c.ASSERT, _c.ASSERT_NOT, _c.GROUPREF):
            raise ValueError(f"unknown item {op}")


def ascii_stand_ins(expressions: Sequence[tuple[str, int]]) -> dict[int, str]:
    """For characters outside ASCII: letters ("é", "Ł", "ü") and the punctuation and spaces
    of written and transcribed speech (dashes, curly quotes, "…", a no-break space): an ASCII
    character that every one-character item of ``expressions`` (pattern, flags) accepting the
    character accepts too, and that is a word character, a space, a line end as it is. Read
    through Hyperscan with each such character replaced by its stand-in, a text matches
    wherever the patterns match it in Python (the items outside lookarounds see the same or
    more; word boundaries and line anchors fall where they fell), so the pass may rule scans
    out there too. Characters with no such stand-in are left out (their texts are not read).
    Tried stand-ins: a letter's base ("é" -> "e"), else "a"/"A"; for the rest, the ASCII
    character it is a form of ("—" -> "-", "’" -> "'"), else any ASCII punctuation."""
    atoms: list[re.Pattern[str]] = []
    for pattern, flags in expressions:
        parsed = _parser.parse(pattern, flags)
        _atoms(parsed.data, bool(parsed.state.flags & re.IGNORECASE), atoms)
    unique = list({(a.pattern, a.flags): a for a in atoms}.values())
    table: dict[int, str] = {}
    for code in itertools.chain(*_STAND_IN_RANGES):
        char = chr(code)
        for stand_in in _stand_in_candidates(char):
            if (_WORD.fullmatch(stand_in) is None) != (_WORD.fullmatch(char) is None):
                continue  # (a word boundary would move)
            if all(a.fullmatch(stand_in) or not a.fullmatch(char) for a in unique):
                table[code] = stand_in
                break
    return table


# Latin letters and the punctuation, spaces and symbols common in English text.
_STAND_IN_RANGES: Final = (range(0x80, 0x2B0), range(0x1E00, 0x1F00), range(0x2000, 0x2070))
_WORD: Final = re.compile(r"\w")
_SPACE: Final = re.compile(r"\s")
# The ASCII forms of punctuation that compatibility decomposition leaves alone.
_PUNCTUATION_FORMS: Final = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2022\u00b7\u2027", "*"),
}
_ASCII_PUNCTUATION: Final = "~`^|#$%&*+=<>@\\{}[]()/!?;:,.'\"-_"


def _stand_in_candidates(char: str) -> list[str]:
    """The ASCII characters tried in turn as ``char``'s stand-in (none: it keeps its text
    from being read)."""
    if char.isupper() or char.islower():
        if len(char.lower()) != 1:
            return []  # (lower-casing changes the text's length: "İ")
        base = unicodedata.normalize("NFD", char)[0]
        return [c for c in (base, "A" if char.isupper() else "a") if c.isascii() and c.isalpha()]
    if char.isalnum() or unicodedata.category(char) in ("Mn", "Mc", "Me", "Lm", "Lo", "Lt"):
        return []  # (digits of other scripts, marks, letters without case)
    if _SPACE.fullmatch(char):
        # (Unicode's line and paragraph separators stay unread: str.splitlines ends lines
        # there, a space would not.)
        return [] if char in "\x85\u2028\u2029" else [" "]
    form = unicodedata.normalize("NFKD", char)[:1]
    first = [form] if form.isascii() and form and not form.isalnum() and not form.isspace() else []
    first += [_PUNCTUATION_FORMS[char]] if char in _PUNCTUATION_FORMS else []
    return [*first, *_ASCII_PUNCTUATION]


def ascii_projection(
    pattern: str, flags: int, stand_ins: Mapping[int, str] | None = None
) -> str | None:
    """``pattern`` rewritten for Hyperscan to read texts of ASCII in which each character
    outside ASCII was replaced by its stand-in (``ascii_stand_ins``; the prefilter reads no
    other text): it matches such a text wherever ``pattern`` matches the original, and is
    far smaller and quicker to run than the pattern in Hyperscan's UTF-8 mode.

    Read from the parse tree. Each one-character item (a literal outside ASCII, a class)
    becomes the class of the ASCII characters it accepts in Python: a character of the text
    is either ASCII, or the stand-in of one that the item accepts, and every item accepting
    a character accepts its stand-in (that is how stand-ins are chosen). Lookarounds are
    dropped, as Hyperscan's prefilter mode drops them, which only widens, except a lookahead
    read where the match ends (its pattern's last item, or the last of a group or a branch
    that is): there the text holds what it looks for right after the match, so the
    projection reads it too. (Dropped, it left a scan written as a lookahead, "Lopez, Maria",
    or one whose cue comes after it, "Haddad, Yusuf 94 M", possible in every text.) Stand-ins
    are not chosen for such a lookahead's items (``ascii_stand_ins`` reads what the prefilter
    mode keeps), so each of its classes also takes the stand-ins (``stand_ins``) of the
    characters it accepts ("[—–·|/]" takes "-"). A back-reference
    accepts anything; a lazy, possessive or atomic item is read as the plain one. None when
    the pattern holds an item this reading does not know (the caller compiles the pattern
    itself, in UTF-8 mode).
    """
    tree = _parser.parse(pattern, flags)
    state = tree.state.flags
    mode = (bool(state & re.IGNORECASE), bool(state & re.DOTALL), bool(state & re.MULTILINE))
    try:
        return _projected(tree.data, mode, mode, True, stand_ins or {})
    except (_Unreadable, KeyError):
        return None


class _Unreadable(Exception):
    """An item ``ascii_projection`` does not know."""


_Mode = tuple[bool, bool, bool]  # case-insensitive, dot-all, multi-line
_ASCII: Final = [chr(code) for code in range(0x80)]
_ANY_ASCII: Final = r"[\x00-\x7f]"
_NO_ASCII: Final = r"[^\x00-\x7f]"  # (matches nothing in the texts read)
_ANCHORS: Final = {
    _c.AT_BEGINNING_STRING: r"\A",
    _c.AT_END_STRING: r"\z",
    _c.AT_BOUNDARY: r"\b",
    _c.AT_NON_BOUNDARY: r"\B",
}
_FLAGS: Final = (re.IGNORECASE, re.DOTALL, re.MULTILINE)


def _ascii_char(code: int) -> str:
    c = chr(code)
    return c if c.isascii() and c.isalnum() else f"\\x{code:02x}"


def _ascii_class(op: Any, av: Any, ci: bool, stand_ins: Mapping[int, str] | None = None) -> str:
    """The class of the ASCII characters that the one-character item ``(op, av)`` accepts
    (with ``stand_ins``: and the stand-ins of the characters it accepts)."""
    atom = _atom(op, av, ci)
    taken = {s for code, s in (stand_ins or {}).items() if atom.fullmatch(chr(code))}
    accepted = [c for c in _ASCII if c in taken or atom.fullmatch(c)]
    if not accepted:
        return _NO_ASCII
    if len(accepted) == len(_ASCII):
        return _ANY_ASCII
    return "[" + "".join(_ascii_char(ord(c)) for c in accepted) + "]"


def _projected(
    items: Any,
    mode: _Mode,
    top: _Mode,
    tail: bool,
    stand_ins: Mapping[int, str],
    ahead: bool = False,
) -> str:
    """The items of a parsed pattern, projected (``mode``: the flags in force; ``top``: the
    pattern's own, which the compiled database applies; ``tail``: whether the match ends
    where these items end; ``ahead``: whether they are read in a lookahead, where classes
    take ``stand_ins`` too)."""
    out = []
    last = len(items) - 1
    for at, (op, av) in enumerate(items):
        ends = tail and at == last  # (the match ends where this item ends)
        if op is _c.LITERAL and av < 0x80:
            out.append(_ascii_char(av))  # (compared as Hyperscan compares it: same flags)
        elif op in (_c.LITERAL, _c.NOT_LITERAL, _c.IN):
            out.append(_ascii_class(op, av, mode[0], stand_ins if ahead else None))
        elif op is _c.ANY:
            out.append("." if mode[1] == top[1] else _ANY_ASCII)
        elif op in (_c.SUBPATTERN, _c.ATOMIC_GROUP):
            add = remove = 0
            sub = av
            if op is _c.SUBPATTERN:
                _group, add, remove, sub = av
            ci, dotall, multiline = (
                (was or bool(add & flag)) and not remove & flag
                for was, flag in zip(mode, _FLAGS, strict=True)
            )
            inner = (ci, dotall, multiline)
            body = _projected(sub.data, inner, top, ends, stand_ins, ahead)
            out.append(
                f"(?{'' if inner[0] else '-'}i:{body})" if inner[0] != mode[0] else f"(?:{body})"
            )
        elif op is _c.BRANCH:
            out.append(
                "(?:"
                + "|".join(_projected(b.data, mode, top, ends, stand_ins, ahead) for b in av[1])
                + ")"
            )
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            low, high, sub = av
            if high is _c.MAXREPEAT:
                count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
            else:
                count = "?" if (low, high) == (0, 1) else f"{{{low},{high}}}"
            out.append(f"(?:{_projected(sub.data, mode, top, False, stand_ins, ahead)}){count}")
        elif op is _c.AT:
            if av in _ANCHORS:
                out.append(_ANCHORS[av])
            elif av not in (_c.AT_BEGINNING, _c.AT_END):
                raise _Unreadable(av)
            elif mode[2] == top[2]:
                out.append("^" if av is _c.AT_BEGINNING else "$")
            # (else a line anchor under a flag the database does not apply: left out, wider)
        elif op is _c.GROUPREF:
            out.append(f"{_ANY_ASCII}*")
        elif op is _c.GROUPREF_EXISTS:
            _group, yes, no = av  # (without "no": the empty string when the group is unset)
            other = "" if no is None else _projected(no.data, mode, top, ends, stand_ins, ahead)
            out.append(f"(?:{_projected(yes.data, mode, top, ends, stand_ins, ahead)}|{other})")
        elif op is _c.ASSERT and ends and av[0] == 1:
            read = _projected(av[1].data, mode, top, True, stand_ins, True)
            out.append(f"(?:{read})")  # (read: see ascii_projection)
        elif op not in (_c.ASSERT, _c.ASSERT_NOT):
            raise _Unreadable(op)
    return "".join(out)
