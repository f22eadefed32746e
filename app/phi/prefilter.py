"""One pass over a text that tells which of many regex scans can match in it at all.

The detector runs some forty whole-text scans; Python's regex engine pays for every position
of the text in each of them, even when the scan finds nothing, and most scans find nothing in
most texts. Hyperscan compiles all of them into one automaton and reads the text once. Each
pattern is compiled in Hyperscan's *prefilter* mode, which matches a superset of what the
pattern matches (constructs it cannot run, such as lookbehinds and back-references, are
widened), so a scan that the prefilter rules out has no match, and skipping it changes
nothing. Scans that can match still run in Python, which keeps every rule's exact meaning.

The superset holds where Hyperscan's PCRE semantics and Python's agree: ``\\w``, ``\\s``,
``\\b`` and case-insensitivity differ outside ASCII (Python's Unicode classes and case
folding; Hyperscan's Unicode mode makes its databases five times slower to build) and on
ASCII control characters (Python's ``\\s`` takes ``\\x1c``-``\\x1f``). So only texts of
printable ASCII, tabs and line breaks are prefiltered as they are; in a text with letters
outside ASCII ("Inés", "Łukasz") or the punctuation of typed and transcribed speech (dashes,
curly quotes, "…", no-break spaces) each such character is read as an ASCII stand-in that
every character class of the patterns accepting it accepts too (``gates.ascii_stand_ins``,
"é" -> "e", "—" -> "-", "’" -> "'"); texts with other characters get every scan, as does
every text when the ``hyperscan`` package is missing. (Before the punctuation had stand-ins,
a transcript with one dash was read by every scan: three times the time.) Since the pass
reads nothing but ASCII, each pattern is compiled as its projection onto ASCII
(``gates.ascii_projection``: each class cut to the ASCII characters it accepts), not in
UTF-8 mode: the text database is 4.2 MB instead of 6.9, and takes 3.4 s to build, not 4.9.
The databases are built on first use, not at import (``warm``: at a worker's start).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import platform
import re
import threading
from collections.abc import Container, Iterator, Mapping, Sequence
from typing import Any, Protocol

from app.phi.gates import ascii_projection, ascii_stand_ins, literal_prefixes

_hs: Any
try:
    import hyperscan as _hs
except ImportError:  # pragma: no cover - a declared dependency; the rules work without it
    _hs = None


class Possible(Container[re.Pattern[str]]):
    """What the pass tells of a text: ``rx in may`` is False only for a scan with no match;
    ``may.finditer(rx, low)`` is ``rx.finditer(low)`` for an anchored scan (see Prefilter)."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:
        return True

    def finditer(self, rx: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
        return rx.finditer(low)


class Filter(Protocol):
    """What the detector asks of its prefilter (a Prefilter; a test's stand-in)."""

    def possible(self, text: str, low: str) -> Possible: ...

    def warm(self) -> None: ...


class _Everything(Possible):
    """A container that holds every scan: nothing can be skipped."""

    __slots__ = ()


EVERYTHING: Possible = _Everything()


class _Found(Possible):
    """The scans that may match, looked up by identity.

    A set of the patterns themselves would hash a pattern on every lookup, and
    ``re.Pattern.__hash__`` hashes the whole compiled program (about 5 µs for the facility
    scan; some 50 µs per text over all the detector's lookups): the scans are module-level
    objects, so their ``id`` is as good a key and costs nothing to hash.
    """

    __slots__ = ("_ids", "_starts")

    def __init__(self, ids: set[int], starts: dict[int, list[int]]) -> None:
        self._ids = ids
        self._starts = starts  # anchored scan -> where its openings occur in the text

    def __contains__(self, item: object) -> bool:
        return id(item) in self._ids

    def finditer(self, rx: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
        starts = self._starts.get(id(rx))
        if starts is None:
            yield from rx.finditer(low) if id(rx) in self._ids else ()
            return
        # Every match opens with one of the openings, so it starts at one of these places:
        # tried in order (from the end of the match before), the first match from each is
        # the one ``finditer`` finds. (An anchored scan matches no empty string.)
        pos = 0
        for start in sorted(set(starts)):
            if start >= pos and (m := rx.match(low, start)) is not None:
                yield m
                pos = m.end()


# In ASCII text, characters on which Python's and Hyperscan's classes disagree.
_DISAGREE_RE = re.compile(r"[^\t\n\r -~]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


Scan = tuple[re.Pattern[str], str | None]  # a pattern, and a simpler gate pattern or None


def release_freed_memory() -> None:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``).

    Compiling the databases allocates some 50 MB that Hyperscan frees when it is done, but
    glibc keeps freed memory for the process: each worker would hold it for its life (a
    worker's RSS 222-232 MB instead of ~180 after the benchmark; issue #17 caps it at 200).
    Elsewhere than on glibc there is nothing to call, and nothing is done."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _database(
    scans: Sequence[Scan], literals: Sequence[str] = (), stand_ins: Mapping[int, str] | None = None
) -> Any:
    """``scans`` in prefilter mode, then ``literals`` (each reported wherever it occurs), as
    read in texts whose characters outside ASCII are replaced by ``stand_ins``."""
    flags = []
    expressions = []
    for p, gate in scans:
        f = _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_SINGLEMATCH | _hs.HS_FLAG_ALLOWEMPTY
        if p.flags & re.IGNORECASE:
            f |= _hs.HS_FLAG_CASELESS
        if p.flags & re.MULTILINE:
            f |= _hs.HS_FLAG_MULTILINE
        if p.flags & re.DOTALL:
            f |= _hs.HS_FLAG_DOTALL
        # The texts the pass reads are ASCII (see the module's docstring): the pattern's
        # projection onto them is a third the size of the pattern in UTF-8 mode, and the
        # smaller database is quicker to run between the detector's scans, which evict it
        # from the caches (``gates.ascii_projection``).
        expression = ascii_projection(gate or p.pattern, p.flags, stand_ins)
        if expression is None:  # (an item the projection does not read: as it is, in UTF-8)
            expression = gate or p.pattern
            f |= _hs.HS_FLAG_UTF8
        expressions.append(expression.encode())
        flags.append(f)
    for literal in literals:
        expressions.append("".join(f"\\x{ord(c):02x}" for c in literal).encode())
        flags.append(0)
    path = _cache_path(expressions, flags)
    if path is not None:
        try:
            with open(path, "rb") as f:
                return _hs.loadb(f.read(), _hs.HS_MODE_BLOCK)
        except (OSError, _hs.error):
            pass  # (none yet, or one this Hyperscan or this CPU cannot read: built anew)
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
    if path is not None:
        _save(path, _hs.dumpb(db))
    return db


def _cache_path(expressions: Sequence[bytes], flags: Sequence[int]) -> str | None:
    """Where a compiled database of these expressions is kept between processes, or None.

    Building the detector's databases takes 15-20 s on a small machine (238 patterns), which
    every worker paid at its start. A database serialized by Hyperscan loads in milliseconds:
    it is kept under ``ROUNDS_PHI_CACHE_DIR`` (default ``$XDG_CACHE_HOME/rounds/phi`` or
    ``~/.cache/rounds/phi``; an empty value turns the cache off), named by a hash of its
    expressions, their flags, the Hyperscan package and the machine's architecture, so a
    changed pattern or another CPU never reads a stale one (and Hyperscan refuses a database
    built for another platform: it is then built anew)."""
    where = os.environ.get("ROUNDS_PHI_CACHE_DIR")
    if where is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        where = os.path.join(base, "rounds", "phi")
    if not where:
        return None
    key = hashlib.sha256()
    key.update(f"{getattr(_hs, '__version__', '')}|{platform.machine()}|".encode())
    for expression, flag in zip(expressions, flags, strict=True):
        key.update(b"%d:%d:" % (flag, len(expression)))
        key.update(expression)
    return os.path.join(where, f"{key.hexdigest()}.hsdb")


def _save(path: str, data: bytes) -> None:
    """Write ``data`` at ``path`` whole or not at all (a temporary file, then a rename: two
    workers starting together each write their own); a cache that cannot be written is
    skipped."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return
    _prune(os.path.dirname(path))


_KEPT: int = 8  # databases kept: the newest few versions' (two each), side by side


def _prune(where: str) -> None:
    """Remove all but the ``_KEPT`` newest databases in ``where``: each change of a pattern
    writes new ones (8.6 MB a version), and a process that read an old one holds it in
    memory, not on disk."""
    try:
        paths = [os.path.join(where, n) for n in os.listdir(where) if n.endswith(".hsdb")]
        paths.sort(key=os.path.getmtime, reverse=True)
        for old in paths[_KEPT:]:
            os.unlink(old)
    except OSError:
        pass  # (another process pruned first)


class Prefilter:
    """Which scans can match a text: ``text_scans`` run over the text, ``low_scans`` over its
    lower-cased copy.

    A gate pattern stands in for a pattern that Hyperscan cannot compile (too long); it must
    match wherever the pattern matches, i.e. be a necessary condition of it (its anchor words).

    ``low_anchored`` scans (over the lower-cased copy) are found by the same pass: every match
    of such a pattern opens with one of a few literal words, read from the pattern itself
    (``gates.literal_prefixes``); the pass reports where those occur, and ``may.finditer``
    tries the pattern only there instead of at every letter of the text.
    """

    def __init__(
        self,
        text_scans: Sequence[Scan],
        low_scans: Sequence[Scan],
        low_anchored: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self._scans = (list(text_scans), list(low_scans))
        self._text = [p for p, _ in text_scans]
        self._low = [p for p, _ in low_scans]
        # The patterns stay referenced by ``_text``/``_low``, so their ids stay theirs.
        self._text_ids = [id(p) for p in self._text]
        self._low_ids = [id(p) for p in self._low]
        self._anchored = list(low_anchored)
        # Each opening of each anchored scan: (the scan's id, the opening). The pass looks for
        # them as the text it reads has them: with their stand-ins (built with the databases).
        self._prefixes: list[tuple[int, str]] = []
        for rx in self._anchored:
            prefixes = literal_prefixes(rx)
            if prefixes is None:
                raise ValueError(f"no literal openings in {rx.pattern[:60]!r}")
            self._prefixes += [(id(rx), prefix) for prefix in prefixes]
        self._openings: list[tuple[int, int]] = []
        self._stand_ins: dict[int, str] = {}
        self._untranslatable = _DISAGREE_RE
        self._local = threading.local()
        self._lock = threading.Lock()
        self._dbs: Any = None

    def _databases(self) -> Any:
        with self._lock:
            if self._dbs is None:
                expressions = [
                    (gate or p.pattern, p.flags) for p, gate in (*self._scans[0], *self._scans[1])
                ]
                self._stand_ins = ascii_stand_ins(expressions)
                kept = "".join(map(chr, self._stand_ins))
                self._untranslatable = re.compile(f"[^\\t\\n\\r -~{re.escape(kept)}]")
                # An opening with a character that has no stand-in never occurs in a text the
                # pass reads (such a character keeps its text from being read).
                literals = []
                for scan, prefix in self._prefixes:
                    read = prefix.translate(self._stand_ins)
                    if read.isascii():
                        self._openings.append((scan, len(read)))
                        literals.append(read)
                self._dbs = (
                    _database(self._scans[0], (), self._stand_ins),
                    _database(self._scans[1], literals, self._stand_ins),
                )
                release_freed_memory()
        return self._dbs

    def _stood_in(self, text: str) -> str:
        """``text.translate(self._stand_ins)``, translating only its runs of characters outside
        ASCII: ``str.translate`` looks every character of a text up in the table (a few
        hundred instructions each), and the table holds no ASCII character (its characters
        are "\\x80" and up), so the ASCII rest of the text is what translate leaves it."""
        stand_ins = self._stand_ins
        return _NON_ASCII_RE.sub(lambda run: run.group().translate(stand_ins), text)

    def warm(self) -> None:
        """Build the databases now (a few seconds), not on the first text a request sends."""
        if _hs is not None:
            self._databases()

    def _scratch(self) -> tuple[Any, Any]:
        # Hyperscan's scratch space serves one scan at a time: one per thread and database.
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            dbs = self._databases()
            scratch = self._local.scratch = (_hs.Scratch(dbs[0]), _hs.Scratch(dbs[1]))
        return scratch

    def possible(self, text: str, low: str) -> Possible:
        """The scans that may match in ``text`` / ``low`` (all when that cannot be told)."""
        if _hs is None:
            return EVERYTHING
        if text.isascii():
            if _DISAGREE_RE.search(text):
                return EVERYTHING
        else:
            self._databases()  # (the stand-ins are read with them)
            if self._untranslatable.search(text) or self._untranslatable.search(low):
                return EVERYTHING  # (every text, when there are no stand-ins)
            text, low = self._stood_in(text), self._stood_in(low)
        found: set[int] = set()
        add = found.add
        text_ids, low_ids = self._text_ids, self._low_ids
        starts: dict[int, list[int]] = {id(rx): [] for rx in self._anchored}
        n_low, openings = len(low_ids), self._openings

        def on_text(i: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            add(text_ids[i])

        def on_low(i: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            if i < n_low:
                add(low_ids[i])
            else:
                scan, length = openings[i - n_low]
                starts[scan].append(end - length)

        text_scratch, low_scratch = self._scratch()
        self._dbs[0].scan(text.encode(), on_text, scratch=text_scratch)
        self._dbs[1].scan(low.encode(), on_low, scratch=low_scratch)
        return _Found(found, starts)
