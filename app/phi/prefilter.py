"""One pass over a text that tells which of many regex scans can match in it at all.

The detector runs some forty whole-text scans; Python's regex engine pays for every position
of the text in each of them, even when the scan finds nothing, and most scans find nothing in
most texts. Hyperscan compiles all of them into one automaton and reads the text once. Each
pattern is compiled in Hyperscan's *prefilter* mode, which matches a superset of what the
pattern matches (constructs it cannot run, such as lookbehinds and back-references, are
widened), so a scan that the prefilter rules out has no match, and skipping it changes
nothing. Scans that can match still run in Python, which keeps every rule's exact meaning.

The superset holds where Hyperscan's PCRE semantics and Python's agree: ``\\w``, ``\\s``,
``\\b`` and case-insensitivity differ on some characters (Python's ``\\s`` takes
``\\x1c``-``\\x1f``, its case folding maps "ſ" to "s", ...). Texts with a character outside a
set where both agree (printable ASCII, tab, newline and the usual Latin letters and quotes)
get every scan, as does every text when the ``hyperscan`` package is not installed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Container, Sequence
from typing import Any

_hs: Any
try:
    import hyperscan as _hs
except ImportError:  # pragma: no cover - a declared dependency; the rules work without it
    _hs = None


class _Everything:
    """A container that holds every scan: nothing can be skipped."""

    def __contains__(self, item: object) -> bool:
        return True


EVERYTHING: Container[re.Pattern[str]] = _Everything()

# Characters on which Python's and Hyperscan's (UTF-8, Unicode properties) classes and case
# folding agree: Latin-1 and Latin Extended-A letters (not the dotless i, the dotted I or the
# long s, which fold differently), typographic quotes and dashes.
_AGREED_LETTERS = "".join(
    chr(c)
    for c in range(0xC0, 0x180)
    if chr(c).isalpha() and chr(c) not in "ıİſ" and len(chr(c).lower()) == 1
)
_DISAGREE_RE = re.compile(f"[^\t\n\r -~{_AGREED_LETTERS}‘’“”–—…]")


Scan = tuple[re.Pattern[str], str | None]  # a pattern, and a simpler gate pattern or None


def _database(scans: Sequence[Scan]) -> Any:
    flags = []
    for p, _ in scans:
        f = _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_SINGLEMATCH | _hs.HS_FLAG_UTF8
        f |= _hs.HS_FLAG_UCP | _hs.HS_FLAG_ALLOWEMPTY
        if p.flags & re.IGNORECASE:
            f |= _hs.HS_FLAG_CASELESS
        if p.flags & re.MULTILINE:
            f |= _hs.HS_FLAG_MULTILINE
        if p.flags & re.DOTALL:
            f |= _hs.HS_FLAG_DOTALL
        flags.append(f)
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(
        expressions=[(gate or p.pattern).encode() for p, gate in scans],
        ids=list(range(len(scans))),
        flags=flags,
    )
    return db


class Prefilter:
    """Which scans can match a text: ``text_scans`` run over the text, ``low_scans`` over its
    lower-cased copy.

    A gate pattern stands in for a pattern that Hyperscan cannot compile (too long); it must
    match wherever the pattern matches, i.e. be a necessary condition of it (its anchor words).
    """

    def __init__(self, text_scans: Sequence[Scan], low_scans: Sequence[Scan]) -> None:
        self._text = [p for p, _ in text_scans]
        self._low = [p for p, _ in low_scans]
        self._local = threading.local()
        self._dbs: Any = None
        if _hs is not None:
            self._dbs = (_database(text_scans), _database(low_scans))

    def _scratch(self) -> tuple[Any, Any]:
        # Hyperscan's scratch space serves one scan at a time: one per thread and database.
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = (_hs.Scratch(self._dbs[0]), _hs.Scratch(self._dbs[1]))
        return scratch

    def possible(self, text: str, low: str) -> Container[re.Pattern[str]]:
        """The scans that may match in ``text`` / ``low`` (all when that cannot be told)."""
        if self._dbs is None or len(low) != len(text) or _DISAGREE_RE.search(text):
            return EVERYTHING
        found: set[re.Pattern[str]] = set()
        add = found.add
        text_patterns, low_patterns = self._text, self._low

        def on_text(i: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            add(text_patterns[i])

        def on_low(i: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            add(low_patterns[i])

        text_scratch, low_scratch = self._scratch()
        self._dbs[0].scan(text.encode(), on_text, scratch=text_scratch)
        self._dbs[1].scan(low.encode(), on_low, scratch=low_scratch)
        return found
