"""Greetings, introductions and thanks are not what a question or an answer is about."""

from __future__ import annotations

import pytest

from copqa.answering.small_talk import is_small_talk, without_small_talk


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        (
            "hi all! I'm a CS student and new here. How do I build R from source?",
            "How do I build R from source?",
        ),
        (
            "just joined — where should i post dask questions?",
            "where should i post dask questions?",
        ),
        ("Hope everyone is well. Does ADF work for WACCM runs?", "Does ADF work for WACCM runs?"),
        # The greeting is part of the question's only sentence: nothing is cut.
        ("Hi all, how do I build R from source?", "Hi all, how do I build R from source?"),
        (
            "I'm trying to build R from source on Windows",
            "I'm trying to build R from source on Windows",
        ),
        # Nothing but small talk: searched as typed rather than not at all.
        ("hello!", "hello!"),
    ],
)
def test_small_talk_is_left_out_of_the_search(typed: str, searched: str) -> None:
    assert without_small_talk(typed) == searched


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Thanks, that worked!", True),
        ("Hi Jane,", True),
        ("Thank you so much for your help", True),
        ("Hi Jane, set memory= to 25GB and it will fit on one node.", False),
        ("Thanks to the new scheduler, jobs now start within a minute of submission.", False),
        ("I am a maintainer of the CRAN mirror list and we update it monthly.", False),
        ("I'm a new Ubuntu user.", False),  # it names what the question is about
        ("I'm a PhD student.", True),
    ],
)
def test_small_talk_sentences(sentence: str, expected: bool) -> None:
    assert is_small_talk(sentence) is expected
