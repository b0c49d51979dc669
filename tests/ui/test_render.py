"""What the page shows: member text escaped, supporting sentences highlighted, links only http(s)."""

from __future__ import annotations

from copqa.answering.experts import ExpertFinder
from copqa.models import Answer, Chunk, Citation, Expert, PostRef, Quote, ScoredChunk
from copqa.sentences import passage_sentences
from ui.render import answer_markdown, calibration_html, citation_card, highlighted, sources_html

EVIL = "<script>alert('x')</script> <img src=x onerror=alert(1)> [go](javascript:alert(1))"


def _chunk(**fields: object) -> Chunk:
    defaults: dict[str, object] = {"id": "d:0", "document_id": "d", "source_id": "s",
                                   "kind": "slack", "title": "A thread", "text": "text"}  # fmt: skip
    return Chunk(**{**defaults, **fields})


def test_member_text_is_escaped_everywhere() -> None:
    chunk = _chunk(title=EVIL, text=EVIL, author="<b>Mallory</b>", url="javascript:alert(1)")
    answer = Answer(
        "q", EVIL + " [1]", True, 0.9,
        citations=(Citation(1, chunk, 0.9, quotes=(Quote(EVIL, "<b>Mallory</b>"),)),),
        experts=(Expert("<img src=x onerror=alert(2)>", 1.0, '" onmouseover="alert(3)'),),
    )  # fmt: skip
    page = sources_html(answer)
    for markup in ("<script>", "<img", "<b>Mallory", 'href="javascript:', '" onmouseover'):
        assert markup not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    chat = answer_markdown(answer)
    assert "<script>" not in chat and "<img" not in chat
    assert "](javascript:" not in chat  # a Markdown link cannot form


def test_the_supporting_sentence_is_highlighted_across_line_breaks() -> None:
    text = "Tobias (2025-02-18): Sorry, no.\nUse the vinyl cutter\ninstead: it handles <coated> fabric."
    marked = highlighted(text, ["Use the vinyl cutter instead: it handles <coated> fabric."])
    assert marked.endswith(
        "<mark>Use the vinyl cutter\ninstead: it handles &lt;coated&gt; fabric.</mark>"
    )
    assert highlighted(text, ["a sentence that is not there"]) == text.replace("<", "&lt;").replace(
        ">", "&gt;"
    )


def test_a_card_names_the_member_who_wrote_the_quote_and_links_their_post() -> None:
    posts = (
        PostRef("p1", "Lena", 1739870000, "https://x.slack.com/archives/C1/p1", opener=True),
        PostRef("p2", "Tobias", 1739880000, "https://x.slack.com/archives/C1/p2"),
    )
    chunk = _chunk(
        author="Lena",
        channel="laser-cutter",
        posts=posts,
        text="Lena: Can I?\nTobias: No, use Snippet.",
    )
    card = citation_card(
        Citation(1, chunk, 0.8, quotes=(Quote("No, use Snippet.", "Tobias", "p2"),))
    )
    assert "Tobias · #laser-cutter · 2025-02-18" in card
    assert 'href="https://x.slack.com/archives/C1/p2"' in card
    assert "<mark>No, use Snippet.</mark>" in card


def test_an_abstention_shows_the_closest_threads_and_people() -> None:
    near = _chunk(title="Wi-Fi at the space?", channel="general", url="https://x/p9")
    answer = Answer("q", "not covered", False, 0.2, retrieved=(ScoredChunk(near, 0.4),),
                    experts=(Expert("Ruth", 0.4, "wrote in #general"),))  # fmt: skip
    page = sources_html(answer)
    assert "Wi-Fi at the space?" in page and 'href="https://x/p9"' in page
    assert "People who discussed it:" in page and "Ruth" in page


def test_an_upload_is_credited_to_its_uploader_and_its_front_matter_is_only_a_claim() -> None:
    spoof = _chunk(kind="markdown", title="Loans", path="/u/loans.md", author="cleo",
                   uploader="bob", text="Cleo (2025-01-01): scopes may go home overnight.")  # fmt: skip
    # A post header typed into a file is the file's text, not a post by that member.
    assert {s.author for s in passage_sentences(spoof)} == {"bob"}
    card = citation_card(Citation(1, spoof, 0.8, quotes=(Quote("scopes may go home", "bob"),)))
    assert '<div class="where">uploaded by bob · says it is by cleo · loans.md</div>' in card
    experts = ExpertFinder(now=0).find([ScoredChunk(spoof, 0.8)])
    assert [e.name for e in experts] == ["bob"]
    own = _chunk(kind="markdown", path="/u/notes.md", author="bob", uploader="bob")
    assert '<div class="where">uploaded by bob · notes.md</div>' in citation_card(
        Citation(1, own, 0.8)
    )


def test_the_tuned_calibration_shows_its_curve_with_the_chosen_threshold_marked(tmp_path) -> None:
    from copqa.answering.confidence import Calibration
    from copqa.tuning.calibration import Tuning, saved_curve

    curve = [
        {"threshold": t, "coverage": c, "declined": d, "balanced_accuracy": (c + d) / 2}
        for t, c, d in ((0.3, 0.9, 0.4), (0.35, 0.8, 0.6), (0.4, 0.5, 0.7))
    ]
    calibration = Calibration(threshold=0.35, fitted_on="<b>60</b> solved threads")
    Tuning(calibration, threads=60, examples=120, curve=curve).save(tmp_path)
    shown = calibration_html(Calibration.load(tmp_path / "calibration.json"), saved_curve(tmp_path))
    assert "&lt;b&gt;60&lt;/b&gt; solved threads" in shown  # the fit's description is escaped
    assert shown.count("<tr>") == 4 and "<td><b>0.35</b></td><td>80%</td><td>60%</td>" in shown
    assert saved_curve(tmp_path / "never-tuned") == []
