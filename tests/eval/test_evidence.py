"""Evidence matching on hand-made passages."""

from __future__ import annotations

from eval.evidence import holds

QUOTE = "Set live Z to -1.05 mm after the nozzle swap on Kraken 2"


def test_a_quote_is_found_whatever_its_spacing_and_case() -> None:
    assert holds(
        "Priya: set   live z to -1.05 MM after the nozzle\nswap on Kraken 2. Thanks", QUOTE
    )


def test_most_of_a_quote_split_over_two_chunks_counts() -> None:
    first_chunk = "...and then: Set live Z to -1.05 mm after the nozzle"  # 9 of 13 words
    second_chunk = "swap on Kraken 2. It worked."  # 4 of 13 words
    assert holds(first_chunk, QUOTE)
    assert not holds(second_chunk, QUOTE)


def test_scattered_words_do_not_count() -> None:
    assert not holds("Kraken 2 swap nozzle mm live after set Z", QUOTE)
    assert not holds("anything", "")
