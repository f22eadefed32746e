"""Tests for the offline PHI detector, on hand-written interview-style snippets."""

from __future__ import annotations

import gc
import time

import pytest

from app.phi.detector import PhiResult, PhiSpan, detect


def _redacts(text: str, phrase: str, token: str, **kwargs: object) -> bool:
    res = detect(text, **kwargs)  # type: ignore[arg-type]
    return phrase not in res.redacted and f"[{token}]" in res.redacted


def test_empty_text() -> None:
    res = detect("")
    assert res == PhiResult(spans=(), categories=(), redacted="")
    assert not res.detected


def test_text_without_phi_is_unchanged() -> None:
    text = "Honestly the scheduling screen is confusing and I give up after two tries."
    res = detect(text)
    assert res.redacted == text
    assert res.categories == ()


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I mostly talk to Dr. Okafor about refills.", "Okafor"),
        ("Mrs. O'Neil at the front desk helps me.", "O'Neil"),
        ("My son Daniel sets up the app for me.", "Daniel"),
        ("Last time Anna S. from billing called me back.", "Anna S."),
        ("The coordinator, Priya Raman, walked me through it.", "Priya"),
        ("It was named after patient Tomasz W. in the demo.", "Tomasz"),
        ("I told Jennifer Walsh that the portal was down.", "Jennifer Walsh"),
    ],
)
def test_names(text: str, phrase: str) -> None:
    assert _redacts(text, phrase, "NAME")


def test_title_is_kept_inside_name_span() -> None:
    res = detect("We waited for Dr. Patel for an hour.")
    assert res.redacted == "We waited for [NAME] for an hour."
    assert res.categories == ("name",)


@pytest.mark.parametrize(
    "phrase",
    [
        "03/14/2023",
        "March 14, 2023",
        "14 Mar",
        "the 3rd of May",
        "2023-03-14",
        "Jan 5th '22",
        "June 2021",
    ],
)
def test_dates(phrase: str) -> None:
    assert _redacts(f"My appointment was {phrase} in the morning.", phrase.split()[-1], "DATE")


@pytest.mark.parametrize(
    "text",
    [
        "She is a 92-year-old retired teacher.",
        "Patient age 95 lives alone.",
        "My grandmother, aged 101, uses the tablet.",
    ],
)
def test_ages_over_89(text: str) -> None:
    res = detect(text)
    assert "[AGE]" in res.redacted
    assert "age" in res.categories


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("Call me at (312) 555-0147 after five.", "PHONE"),
        ("Fax it to 617-555-0100 please.", "PHONE"),
        ("Write to jo.bloggs+rounds@example.org any time.", "EMAIL"),
        ("My SSN is 123-45-6789 on the form.", "ID"),
        ("The MRN: 00482913 was wrong on the printout.", "ID"),
        ("Member ID HX-4471029 is on the back of the card.", "ID"),
        ("The pump serial number SN 4F7K22901 rattles.", "ID"),
        ("Check https://portal.example.com/u/8812 for results.", "URL"),
        ("It logged in from 10.20.30.40 yesterday.", "IP"),
        ("And from 2001:db8::ff00:42:8329 once.", "IP"),
    ],
)
def test_contact_and_identifiers(text: str, token: str) -> None:
    res = detect(text)
    assert f"[{token}]" in res.redacted
    assert token.lower() in res.categories


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I live at 1420 Birch Lane, Springfield, IL 62704 now.", "Birch Lane"),
        ("They sent me to St. Mary's Hospital for the scan.", "St. Mary's"),
        ("Mercy Clinic has better parking.", "Mercy Clinic"),
        ("I drive in from Sacramento every week.", "Sacramento"),
        ("We moved to Dayton, OH last spring.", "Dayton"),
        ("My zip code is 30301 if that matters.", "30301"),
        ("It's a small practice in Travis County.", "Travis County"),
    ],
)
def test_locations(text: str, phrase: str) -> None:
    assert _redacts(text, phrase, "LOCATION")


@pytest.mark.parametrize(
    "text",
    [
        "I'm 45 and a 67-year-old friend of mine uses it too.",
        "I started using the portal in 2022.",
        "They switched me from lisinopril to losartan after the hypertension workup.",
        "My A1c was 7.2 and creatinine 1.1 mg/dL.",
        "The clinic moved from Cerner to Epic and the FHIR and HL7 feeds broke.",
        "Medicare covers part of it, Medicaid the rest.",
        "We moved here from Texas and my sister lives in California.",
        "On Tuesday I finally got through; see you Monday.",
        "Will the app remind me? May I ask another question?",
        "Parkinson's disease runs in my family and my Wells score was low.",
        "Blood pressure was 120/80 and I take 1/2 tablet.",
        "Diabetes management is the main thing for me.",
    ],
)
def test_does_not_over_redact(text: str) -> None:
    assert detect(text).redacted == text


def test_participant_names_argument() -> None:
    text = "maria said GONZALEZ was misspelled, and the mariachi band was loud."
    res = detect(text, names=["Maria Gonzalez"])
    assert res.redacted == "[NAME] said [NAME] was misspelled, and the mariachi band was loud."
    full = detect("I am Maria Gonzalez.", names=["Maria Gonzalez"])
    assert full.redacted == "I am [NAME]."


def test_participant_name_parts_shorter_than_two_chars_ignored() -> None:
    res = detect("J said the form was fine.", names=["J Smith"])
    assert res.redacted == "J said the form was fine."


def test_overlapping_spans_merge_with_longer_category() -> None:
    # "Dr. Smith" (name) sits inside "Dr. Smith's Office" (location): one merged span.
    res = detect("I called Dr. Smith's Office twice.")
    assert len(res.spans) == 1
    assert res.spans[0].category == "LOCATION"
    assert res.redacted == "I called [LOCATION] twice."


def test_adjacent_spans_are_merged() -> None:
    res = detect("Reach Maria at x", names=["Maria"])
    assert res.spans == (PhiSpan(6, 11, "NAME"),)
    merged = detect("MariaGonzalez", names=["Maria", "MariaGonzalez"])
    assert len(merged.spans) == 1


def test_spans_categories_and_redaction_are_consistent() -> None:
    text = "Dr. Patel saw me at Mercy Clinic on 04/02/2023; call 555-201-3344."
    res = detect(text)
    assert res.detected
    assert res.categories == ("date", "location", "name", "phone")
    rebuilt = []
    pos = 0
    for span in res.spans:
        rebuilt.append(text[pos : span.start] + f"[{span.category}]")
        pos = span.end
    assert "".join(rebuilt) + text[pos:] == res.redacted


def test_speed_is_reasonable() -> None:
    text = "Dr. Patel saw Anna S. at Mercy Clinic on March 3, 2023 about her metformin. " * 140
    detect("warm up")
    gc.collect()  # other tests' garbage is not the detector's cost
    t0 = time.process_time()
    detect(text)
    elapsed_ms = (time.process_time() - t0) * 1000
    # Generous bound so slow CI machines pass; the benchmark reports the real figure. CPU
    # time, not wall time: on a shared machine the wall clock also counts other processes;
    # and a full collection of earlier tests' objects landing in the call cost up to 0.7 s.
    assert elapsed_ms / (len(text) / 10_000) < 100


def test_speaker_labels_do_not_make_names_of_clinical_words() -> None:
    # "Participant:" opens a turn; the capitalised word after it is just a sentence start.
    text = "Participant: Metformin and lisinopril do not matter.\nPatient: Vancomycin was late."
    assert detect(text).redacted == text
    # a real name after a label still goes
    assert detect("Patient: John Smith was seen.").redacted == "Patient: [NAME] was seen."
    assert detect("Participant: Zebulon Quackenbush here.").redacted == (
        "Participant: [NAME] here."
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("MRN: 48213377 on file", "[ID] on file"),
        ("MR# 4821337", "[ID]"),
        ("chart no. 448213", "[ID]"),
        ("S/N 99812-AZ", "[ID]"),
        ("account #44821", "[ID]"),
        ("ref 4821x", "[ID]"),
        ("Her patient ID is 4821", "Her [ID]"),
        ("called back at 4 pm about 2 doses", "called back at 4 pm about 2 doses"),
    ],
)
def test_labelled_ids_survive_the_label_precheck(text: str, redacted: str) -> None:
    assert detect(text).redacted == redacted
