"""The word lists the detector reads (app/phi/data). The held-out transcript split's names and
places are in the lists the detector ships, and the benchmark withholds them
(bench/phi_corpus/heldout_names.txt, heldout_places.txt) when it scores that split, so its
recall is the detector's, not the lists'."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from app.phi import detector
from app.phi.data.build_wordlists import FOREIGN_REFUSED, TOWN_PREFIXES, WITHHELD_PLACES
from app.phi.data.build_wordlists import WITHHELD_NAMES as WITHHELD
from app.phi.detector import detect

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "app/phi/data"
HELDOUT_LOCALES = ("en_GB", "pl_PL", "de_DE", "it_IT", "fr_FR", "nl_NL")


def _world() -> set[str]:
    return set((DATA / "first_names_world.txt").read_text(encoding="utf-8").split())


def _held_out(label: str) -> set[str]:
    held = set()
    for line in (ROOT / "bench/phi_corpus/heldout.jsonl").read_text(encoding="utf-8").splitlines():
        for span in json.loads(line)["spans"]:
            if span["label"] == label:
                held |= {
                    span["text"].lower(),
                    *(w.lower() for w in re.findall(r"\w+", span["text"])),
                }
    return held


def _towns() -> set[str]:
    return set((DATA / "towns_abroad.txt").read_text(encoding="utf-8").splitlines())


def _withheld() -> set[str]:
    return set(WITHHELD.read_text(encoding="utf-8").split())


def test_every_held_out_name_the_world_list_holds_is_withheld() -> None:
    held = _held_out("NAME")
    assert held and held & _world() and held & _world() <= _withheld()
    assert _withheld() <= _world()


def test_every_listed_town_the_held_out_split_names_is_withheld() -> None:
    towns = _towns() | set((DATA / "us_cities.txt").read_text(encoding="utf-8").splitlines())
    withheld = set(WITHHELD_PLACES.read_text(encoding="utf-8").splitlines())
    held = _held_out("LOCATION") | _held_out("NAME")
    assert held & towns and held & towns <= withheld <= towns
    assert {"new delhi", "le havre", "east london"} <= towns  # (shipped: "new", "le" are held)
    assert {t for t in towns if " " in t and t.split()[0] in held} <= withheld


def test_a_two_word_town_abroad_opens_with_no_given_name() -> None:
    towns = _towns()
    assert len(towns) > 8_000
    first = _world() | set((DATA / "first_names.txt").read_text(encoding="utf-8").split())
    # (but a word that only tells which town it is: "San Pedro Sula", "La Ceiba")
    assert not {t.split()[0] for t in towns if " " in t} & first - TOWN_PREFIXES


def test_a_one_word_town_abroad_is_no_word_name_or_drug() -> None:
    """A one-word town abroad ("Mosul") is listed only when no other list holds it as a word,
    a drug or a region ("Rehab" is a town too), and, below 300,000 people, as a name: the
    names among them are a few cities ("Sheffield", "London", "Adelaide")."""
    one_word = {t for t in _towns() if " " not in t}
    assert 4_000 < len(one_word) < len(_towns()) / 2
    assert {"mosul", "kandahar", "vicenza", "sheffield"} <= one_word
    words = set()
    for name in (
        "common_words",
        "common_inflections",
        "clinical_words",
        "drug_names",
        "first_names_common",
        "regions_abroad",
    ):
        words |= set((DATA / f"{name}.txt").read_text(encoding="utf-8").split())
    assert not {p for t in one_word for p in (t, *t.split("-"))} & words
    names = _world() | set((DATA / "first_names.txt").read_text(encoding="utf-8").split())
    names |= set((DATA / "surnames.txt").read_text(encoding="utf-8").split())
    assert len(one_word & names) < 120
    assert not {"toyota", "helsinki", "glasgow", "armenia"} & one_word


def test_every_name_of_a_held_out_locale_the_world_list_holds_is_withheld() -> None:
    person = pytest.importorskip("faker.providers.person")
    world, withheld = _world(), _withheld()
    assert {"gareth", "liam", "agnieszka", "alessandro"} <= world
    for locale in HELDOUT_LOCALES:
        provider = importlib.import_module(f"{person.__name__}.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            value = provider.__dict__.get(attr) or ()
            names = {n.lower() for n in value if isinstance(n, str)}
            assert names & world <= withheld, (locale, attr, sorted(names & world - withheld)[:5])


@pytest.mark.parametrize(
    ("variable", "path", "text", "found"),
    [
        ("ROUNDS_PHI_WITHHOLD_NAMES", WITHHELD, "A: So Gareth opened the chart.", "Gareth"),
        (
            "ROUNDS_PHI_WITHHOLD_PLACES",
            WITHHELD_PLACES,
            "the clinic near east providence was closed",
            "east providence",
        ),
    ],
)
def test_withheld_names_and_places_are_unknown_to_the_detector(
    monkeypatch: pytest.MonkeyPatch, variable: str, path: Path, text: str, found: str
) -> None:
    """What the benchmark scores the held-out split with: the lists without its names and
    towns."""
    assert [text[s.start : s.end] for s in detect(text).spans] == [found]
    monkeypatch.setenv(variable, str(path))
    detector._lexicon.cache_clear()
    try:
        assert detect(text).spans == ()
    finally:
        monkeypatch.delenv(variable)
        detector._lexicon.cache_clear()
    assert detect(text).spans


def test_the_world_list_holds_no_word_the_other_lists_refuse() -> None:
    world = _world()
    common = set((DATA / "common_words.txt").read_text(encoding="utf-8").split())
    drugs = set((DATA / "drug_names.txt").read_text(encoding="utf-8").split())
    assert len(world) > 10_000
    assert not world & common and not world & drugs
    assert not world & {"texas", "india", "april", "sunday", "graves", "siri"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # (a known given name needs no cue: without the list, neither is found)
        ("A: So Ngaire opened the chart and we looked.", "Ngaire"),
        ("A: So Laurentiu opened the chart and we looked.", "Laurentiu"),
        # (names of the held-out split's countries too: "Liam", "Agnieszka")
        ("A: Yesterday Liam called me back.", "Liam"),
        ("A: It was rough. Agnieszka covered the night.", "Agnieszka"),
        # (a town abroad needs no word of place before it)
        ("A: Ballymena was lovely. So was Wagga Wagga.", "Wagga Wagga"),
        ("A: She grew up near Broken Hill and Kota Bharu.", "Broken Hill"),
    ],
)
def test_a_given_name_of_another_country_is_known(text: str, name: str) -> None:
    start = text.index(name)
    assert any(s.start <= start < s.end for s in detect(text).spans)


def test_the_inflections_hold_no_listed_name_place_or_drug() -> None:
    forms = set((DATA / "common_inflections.txt").read_text(encoding="utf-8").split())
    assert len(forms) > 3_000
    assert {"years", "clinicians", "nurses"} <= forms
    for name in ("first_names", "first_names_common", "first_names_world", "surnames"):
        listed = set((DATA / f"{name}.txt").read_text(encoding="utf-8").split())
        assert not forms & listed, (name, sorted(forms & listed)[:5])
    drugs = set((DATA / "drug_names.txt").read_text(encoding="utf-8").split())
    assert not forms & drugs


def test_the_clinical_words_hold_no_listed_name_or_place() -> None:
    words = set((DATA / "clinical_words.txt").read_text(encoding="utf-8").split())
    assert {"lactate", "troponin", "delirium"} <= words
    for name in ("first_names", "first_names_common", "first_names_world", "surnames", "us_cities"):
        listed = set((DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines())
        assert not words & listed, (name, sorted(words & listed)[:5])


@pytest.mark.parametrize(
    "text",
    [
        "We had 22 participants; 14 nurses. Years in practice ranged from 2 to 31.",
        "Design review: Clinicians asked us to hide the raw score.",
        "We titrated to 5. Lactate went from 4.1 to 2.3 over six hours.",
        "Nights. He gets up three, four times. Sundowning, the doctor called it.",
    ],
)
def test_an_inflected_word_opening_a_sentence_is_no_name(text: str) -> None:
    assert detect(text).redacted == text


def test_the_foreign_words_hold_no_listed_name_or_place() -> None:
    words = set((DATA / "foreign_words.txt").read_text(encoding="utf-8").split())
    assert {"semana", "azúcar", "merci", "beaucoup"} <= words
    assert not words & {"rosa", "luz", "cruz", "flores", "santos", "domingo"}
    for name in FOREIGN_REFUSED:
        listed = set((DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines())
        assert not words & listed, (name, sorted(words & listed)[:5])


@pytest.mark.parametrize(
    ("text", "foreign"),
    [
        ("patient oui avec le café mais je suis très fatigué, pas beaucoup", True),
        ("cómo ha estado la azúcar esta semana, que bueno, para usted muy bien", True),
        # (a Spanish phrase in an English interview, a facility's Portuguese word)
        ("P3: Gracias, mija. She was admitted to Kaiser Permanente in Santa Clara.", False),
    ],
)
def test_a_text_in_another_language_reads_its_words_as_words(text: str, foreign: bool) -> None:
    assert detector._foreign_text(text) is foreign


@pytest.mark.parametrize("town", ["Portadown", "Tralee", "Whangarei", "Wodonga", "Letterkenny"])
def test_a_town_of_an_english_speaking_country_is_known(town: str) -> None:
    assert town.lower() in _towns()
    assert (
        detect(f"My sister lives in {town} now.").redacted == "My sister lives in [LOCATION] now."
    )
    assert detect(f"my sister in {town.lower()}").redacted == "my sister in [LOCATION]"
