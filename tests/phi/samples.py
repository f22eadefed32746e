"""PHI-bearing sample data shared by the PHI tests (all synthetic)."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.api.factories import World

NAME = "Zebulon Quackenbush"
CONTACT = "zquackenbush@harborview-example.org, 617-555-0143"
MRN = "48213377"
PHONE = "617-555-0143"
EMAIL = "zquackenbush@harborview-example.org"
STREET = "42 Wallaby Lane"
DOB = "04/17/1951"

TRANSCRIPT = f"""Interviewer: Thanks for making time. For the record, who am I speaking with?
Participant: I'm {NAME}, charge nurse on the cardiac step-down unit.
Participant: Honestly the sepsis alert in Epic fires too late. Last month a patient, MRN {MRN},
born {DOB}, was already hypotensive when it fired. His daughter called me at {PHONE}
from {STREET}, Cambridge, MA 02139.
Participant: You can email me at {EMAIL} after the session."""
SUMMARY = f"{NAME} says the sepsis alert fires too late; example patient MRN {MRN}."
QUOTE = f"By the time it fired, the patient (MRN {MRN}) was hypotensive - call me at {PHONE}."

# Strings that must never be stored in clear text, logged, audited or shown to a redacted view.
NEEDLES = (NAME, "Quackenbush", MRN, PHONE, EMAIL, STREET, DOB)


async def phi_interview(w: World, **over: Any) -> dict[str, Any]:
    """An interview full of PHI in `w`'s product, created by its PM."""
    return await w.interview(
        participant_name=NAME,
        participant_contact=CONTACT,
        transcript=TRANSCRIPT,
        summary=SUMMARY,
        site="Cardiac step-down",
        **over,
    )


def assert_no_needles(text: str, where: str) -> None:
    for needle in NEEDLES:
        assert needle not in text, f"PHI {needle!r} found in {where}"


_CORPUS = Path(__file__).resolve().parents[2]
CORPUS_FILES = [
    _CORPUS / "tests/phi/data/gold_fixture.jsonl",
    _CORPUS / "bench/phi_corpus/tune.jsonl",
]


def corpus_texts() -> list[str]:
    """The transcripts of the gold fixture and the tune split, for tests that run the
    detector's machinery over realistic texts (never the held-out split)."""
    texts = []
    for path in CORPUS_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line:
                texts.append(json.loads(line)["text"])
    return texts


def mutated(text: str, rng: random.Random, alphabet: str, changes: int) -> str:
    """`text` with `changes` characters at random places replaced from `alphabet`."""
    chars = list(text)
    for _ in range(changes):
        i = rng.randrange(len(chars))
        chars[i] = rng.choice(alphabet)
    return "".join(chars)


@cache
def plain_module(name: str) -> ModuleType:
    """Module ``name`` of app.phi loaded from its Python source, whether or not the native
    build (app/phi/__init__.py) is what ``import app.phi.<name>`` gives: for tests that read
    a function's code, and to compare the two builds."""
    path = Path(__file__).resolve().parents[2] / "app/phi" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"app.phi._plain_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
