"""Benchmark the PHI detector: ASQ-PHI (public, optional) beside the project's own transcripts.

Usage: python bench/phi_bench.py [--leaks N] [--only asq|tune|heldout|fixture] [--data FILE]
(ASQ-PHI directory overridable with ASQ_PHI_DIR; skipped cleanly when absent.)

Scoring, the same for every dataset: a gold span is recalled when every non-space character
of it is inside a detected span (a partially redacted identifier counts as leaked);
hard-negative specificity is the share of PHI-free texts whose redacted output is unchanged;
speed is the best of several passes of process CPU time, in ms per 10 kB of text.

The held-out split is scored with its names withheld from the detector's given-name lists
(``heldout_names.txt``: every name its generator could draw, which the lists it ships hold)
and its places from the town lists (``heldout_places.txt``: every listed town its gold spans
name, whole, by its first word or by a part), so its figures are those of names and places
the detector has never seen; ``heldout-shipped`` scores it again with the lists as shipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.phi.detector import detect  # noqa: E402

BASELINE = "Amazon Comprehend Medical (published): recall 98.55%, hard-negative specificity ~10%"
CORPUS = ROOT / "bench/phi_corpus"
# (app/phi/data/build_wordlists.py writes them)
WITHHELD = {
    "ROUNDS_PHI_WITHHOLD_NAMES": CORPUS / "heldout_names.txt",
    "ROUNDS_PHI_WITHHOLD_PLACES": CORPUS / "heldout_places.txt",
}


def _asq_path() -> Path:
    env = os.environ.get("ASQ_PHI_DIR")
    base = Path(env) if env else ROOT.parent / "shared/data/asq-phi"
    return base / "asq_phi_spans.jsonl"


DATASETS = {
    "asq": _asq_path,
    "tune": lambda: CORPUS / "tune.jsonl",
    "heldout": lambda: CORPUS / "heldout.jsonl",
    "fixture": lambda: ROOT / "tests/phi/data/gold_fixture.jsonl",
}


@dataclass
class Score:
    """Recall and specificity figures of one dataset."""

    rows: int = 0
    gold: Counter[str] = field(default_factory=Counter)
    strict: Counter[str] = field(default_factory=Counter)
    neg_total: int = 0
    neg_clean: int = 0
    leaks: list[tuple[str, str, str]] = field(default_factory=list)
    over: list[tuple[str, str]] = field(default_factory=list)  # (row id, redacted negative)
    chars: int = 0
    ms: float = 0.0

    @property
    def recall(self) -> float:
        n = sum(self.gold.values())
        return sum(self.strict.values()) / n if n else 1.0

    @property
    def specificity(self) -> float:
        return self.neg_clean / self.neg_total if self.neg_total else 1.0

    @property
    def ms_per_10k(self) -> float:
        return self.ms / (self.chars / 10_000) if self.chars else 0.0


def load(path: Path) -> list[dict]:
    """Rows of a span-annotated JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


LONG_JOIN = 30  # transcripts per long one (about 15 kB)


def joined(rows: list[dict], k: int = LONG_JOIN) -> list[dict]:
    """``rows`` joined ``k`` at a time into long transcripts (one line break between them),
    their gold spans moved with them: how the detector does on a long interview. A long
    text with any identifier in it counts as no hard negative."""
    out = []
    for i in range(0, len(rows), k):
        text, spans = "", []
        for row in rows[i : i + k]:
            spans += [
                dict(g, start=g["start"] + len(text), end=g["end"] + len(text))
                for g in row["spans"]
            ]
            text += row["text"] if row["text"].endswith("\n") else row["text"] + "\n"
        out.append({"id": f"long-{i}", "text": text, "spans": spans, "hard_negative": not spans})
    return out


def score(rows: list[dict], repeat: int = 1) -> Score:
    """Run the detector over ``rows`` and score it (timing: best of ``repeat`` passes)."""
    detect("warm-up Dr. Smith on March 3, 2023")  # load word lists outside the timing
    s = Score(rows=len(rows), chars=sum(len(r["text"]) for r in rows))
    elapsed = float("inf")
    results = []
    for _ in range(max(1, repeat)):
        t0 = time.process_time()
        results = [detect(r["text"]) for r in rows]
        elapsed = min(elapsed, time.process_time() - t0)
    s.ms = elapsed * 1000
    for row, res in zip(rows, results, strict=True):
        text = row["text"]
        mask = [False] * len(text)
        for sp in res.spans:
            for i in range(sp.start, sp.end):
                mask[i] = True
        if row["hard_negative"]:
            s.neg_total += 1
            if res.redacted == text:
                s.neg_clean += 1
            else:
                s.over.append((row["id"], res.redacted))
        for g in row["spans"]:
            label = g["label"]
            s.gold[label] += 1
            if all(mask[i] for i in range(g["start"], g["end"]) if not text[i].isspace()):
                s.strict[label] += 1
            else:
                s.leaks.append((row["id"], label, g["text"]))
    return s


def _lists(withhold: bool) -> None:
    """The detector's given-name and town lists from now on: without the held-out split's
    names and places, or as shipped (``WITHHELD``'s variables, read when the lists load)."""
    import app.phi.detector as module

    for variable, path in WITHHELD.items():
        if withhold:
            os.environ[variable] = str(path)
        else:
            os.environ.pop(variable, None)
    module._lexicon.cache_clear()


def _print(name: str, s: Score, leaks: int) -> None:
    n = sum(s.gold.values())
    print(f"\n== {name}: {s.rows} texts, {n} gold spans, {s.neg_total} hard negatives")
    print(f"recall (strict):            {s.recall:.2%} ({n - len(s.leaks)}/{n})")
    print(f"hard-negative specificity:  {s.specificity:.2%} ({s.neg_clean}/{s.neg_total})")
    print(f"speed:                      {s.ms_per_10k:.2f} ms per 10 kB ({s.chars} chars)")
    print("per category (recall / n):")
    for label, count in s.gold.most_common():
        print(f"  {label:32s} {s.strict[label] / count:7.2%} {count:5d}")
    for qid, label, value in s.leaks[:leaks]:
        print(f"  leak {qid} {label}: {value!r}")
    for qid, red in s.over[:leaks]:
        print(f"  over-redacted {qid}: {red[:300]!r}")


def main() -> int:
    """Score every available dataset and print a side-by-side summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaks", type=int, default=15, help="leaks to print per dataset")
    parser.add_argument("--repeat", type=int, default=11, help="timed passes (best is kept)")
    parser.add_argument(
        "--only", choices=sorted([*DATASETS, "heldout-long", "heldout-shipped"]), action="append"
    )
    parser.add_argument(
        "--show-heldout",
        action="store_true",
        help="print the held-out split's leaks too (reading them makes it a tune set)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        help="also score this span-annotated JSONL file (the corpus's format)",
    )
    args = parser.parse_args()
    import app.phi.detector as module

    build = "native (mypyc)" if (module.__file__ or "").endswith(".so") else "plain Python"
    print(f"detector build: {build} ({module.__file__}; ROUNDS_PHI_NATIVE=0 for the plain one)")
    summary = []
    sets = [(name, where()) for name, where in DATASETS.items()]
    # The held-out split again as long transcripts (LONG_JOIN joined): a long interview.
    at = sets.index(("heldout", DATASETS["heldout"]())) + 1
    sets[at:at] = [(f"heldout-{kind}", DATASETS["heldout"]()) for kind in ("long", "shipped")]
    sets += [(path.stem, path) for path in args.data]
    for name, path in sets:
        if args.only and name not in args.only and path not in args.data:
            continue
        if not path.is_file():
            print(f"\n== {name}: skipped (dataset not found: {path.name})")
            continue
        rows = joined(load(path)) if name.endswith("-long") else load(path)
        _lists(withhold=name in ("heldout", "heldout-long"))
        s = score(rows, args.repeat)
        hidden = name.startswith("heldout") and not args.show_heldout
        _print(name, s, 0 if hidden else args.leaks)
        if hidden and (s.leaks or s.over):
            print("  (its leaks are not printed: --show-heldout prints them)")
        summary.append((name, s))
    print("\n| dataset | texts | gold spans | recall | hard-neg specificity | ms / 10 kB |")
    print("|---|---|---|---|---|---|")
    for name, s in summary:
        print(
            f"| {name} | {s.rows} | {sum(s.gold.values())} | {s.recall:.2%} "
            f"| {f'{s.specificity:.2%}' if s.neg_total else '-'} | {s.ms_per_10k:.2f} |"
        )
    cats = sorted({c for _, s in summary if _ != "asq" for c in s.gold})
    if cats:
        print("\nper category recall (own corpus):")
        print("| category | " + " | ".join(n for n, _ in summary if n != "asq") + " |")
        for c in cats:
            cells = [
                f"{s.strict[c] / s.gold[c]:.1%}" if s.gold[c] else "-"
                for n, s in summary
                if n != "asq"
            ]
            print(f"| {c} | " + " | ".join(cells) + " |")
    print(f"\nASQ-PHI baseline: {BASELINE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
