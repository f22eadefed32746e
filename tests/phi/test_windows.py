"""A long transcript is read in windows (app/phi/detector.py, ``_windows``): the windows
cover the text, each cut where a line or a sentence ends, and what one window finds holds
for the whole text."""

from __future__ import annotations

import pytest

from app.phi import detector
from app.phi.detector import detect


def _turns(n: int) -> str:
    lines = []
    for i in range(n):
        speaker = "Interviewer" if i % 2 == 0 else "Participant"
        lines.append(f"{speaker}: We talked about the order sets and the alerts again, turn {i}.")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", [_turns(400), "word " * 5000, "x" * 20_000, _turns(3) * 200])
def test_windows_cover_the_text_in_order(text: str) -> None:
    windows = list(detector._windows(text))
    assert len(windows) > 1
    own_start = 0
    for start, end in windows:
        assert start <= own_start < end  # a window reads its own part, after some context
        assert own_start - start <= detector._WINDOW_CONTEXT_CHARS
        own_start = end
    assert own_start == len(text)
    for _, end in windows[:-1]:
        assert text[end - 1] in "\n x" and end - 1 < len(text)


def test_a_short_text_is_read_whole() -> None:
    text = _turns(20)
    assert len(text) <= 2 * detector._WINDOW
    assert list(detector._windows(text)) == [(0, len(text))]


def test_a_long_transcript_finds_what_its_parts_do() -> None:
    head = "Participant: My sister Ines drove me to Lakeside Memorial in Ogden.\n"
    asked = "Interviewer: And the postcode?\n"
    answer = "Participant: It's 4410.\n"
    filler = _turns(60)
    text = head + filler + asked + answer + filler + "Participant: Ines said so.\n" + filler
    assert len(text) > 2 * detector._WINDOW
    redacted = detect(text).redacted
    assert redacted.startswith("Participant: My sister [NAME] drove me to [LOCATION].\n")
    # The answered turn is read with the question before it, wherever the windows are cut.
    assert "Interviewer: And the postcode?\nParticipant: It's [LOCATION].\n" in redacted
    # A name found in the first window is redacted in the last (not an English word).
    assert "Participant: [NAME] said so.\n" in redacted
    assert redacted.count("turn 59.") == 3  # (no filler touched)


def test_a_question_cut_from_its_answer_by_a_window_is_read_with_it() -> None:
    asked = "Interviewer: And the postcode?\n"
    cut_between = 0
    for pad in range(0, 120, 4):
        # (about a window of turns before the question: 53 turns are 4,000 characters)
        before = _turns(detector._WINDOW * 53 // 4000)
        text = "x" * pad + "\n" + before + asked + "Participant: It's 4410.\n" + _turns(80)
        after_question = text.index(asked) + len(asked)
        cut_between += any(end == after_question for _, end in detector._windows(text))
        assert "Participant: It's [LOCATION]." in detect(text).redacted, pad
    assert cut_between  # (some padding puts a window's end between the two turns)
