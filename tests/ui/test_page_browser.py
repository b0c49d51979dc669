"""The page as people meet it: a real headless Chromium (Debian's, through Playwright).

Each test drives the shared `python app.py` from conftest's `app_url` in a fresh browser
context, and leaves a full-page screenshot of where it ended in tests/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import handle_file as gradio_file
from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from tests.support.accounts import MAINTAINER, MEMBER
from tests.support.chromium import SCREENSHOTS, headless_chromium
from tests.support.page_client import page_client

ANSWER_MS = 60_000  # an answer on a slow 2-core machine takes seconds, sometimes many
STEP_MS = 30_000  # anything else the page does: sign in, switch tabs, list the library
UPLOAD_MS = 120_000  # reading, chunking and embedding a PDF
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ABSTAINED = "No answer in the community's knowledge"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=STEP_MS)
    with headless_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The page, loaded in a context of its own; photographed at the end, pass or fail."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(STEP_MS)
    opened.goto(app_url)
    expect(opened.locator("#question textarea")).to_be_visible()
    yield opened
    SCREENSHOTS.mkdir(exist_ok=True)
    opened.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()


def ask(page: Page, question: str) -> Locator:
    """Asks as a person does (type, Enter); returns the answer once it is complete."""
    answers = page.locator("#chat [data-testid='bot']")
    before = answers.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    # The new answer bubble and an emptied #sources arrive in the same update; the
    # sources are filled again only by the last one, with the finished answer.
    expect(answers).to_have_count(before + 1, timeout=ANSWER_MS)
    expect(page.locator("#sources")).to_contain_text(
        re.compile(f"Sources|{ABSTAINED}"), timeout=ANSWER_MS
    )
    return answers.last


def card_from(page: Page, where: str) -> Locator:
    """The first citation card whose member / place / date line mentions `where`."""
    cards = page.locator("#sources .copqa-card").filter(has=page.locator(".where", has_text=where))
    expect(cards.first).to_be_visible()
    return cards.first


def sign_in(page: Page, account: tuple[str, str, str]) -> None:
    name, role, password = account
    page.locator("#sign-in").get_by_text("Sign in (members and maintainers)").click()
    page.locator("#login-name textarea").fill(name)
    page.locator("#login-password input").fill(password)
    page.locator("#login-button").click()
    expect(page.locator("#signed-in")).to_contain_text(f"Signed in as {name} ({role})")


def squeezed(text: str) -> str:
    return " ".join(text.split())


def test_a_guest_asks_and_sees_the_cited_member_post(page: Page) -> None:
    answer = ask(page, "Can I cut PVC on the laser cutter?")

    expect(answer).to_contain_text("[1]")
    expect(answer).not_to_contain_text("▌")  # the streaming cursor is gone: the answer is final
    thread = card_from(page, "#laser-cutter")
    where = thread.locator(".where")
    expect(where).to_contain_text("Tobias Lindqvist")
    expect(where).to_contain_text(DAY)
    expect(page.locator("#sources .copqa-card mark").first).to_be_visible()
    # The highlighted sentence of source [1] is the claim the answer makes with [1].
    first = page.locator('#sources .copqa-card[data-citation="1"] mark').first
    claim = squeezed(first.inner_text()).rstrip(".")
    assert claim and claim in squeezed(answer.inner_text())

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "ask.png", full_page=True)  # the README's candidate


def test_a_guest_sees_only_the_ask_tab(page: Page) -> None:
    expect(page.locator("#signed-in")).to_contain_text("Asking as a guest")
    expect(page.get_by_role("tab", name="Ask")).to_be_visible()
    for hidden in ("Upload", "Library", "Maintainers"):
        expect(page.get_by_role("tab", name=hidden)).to_be_hidden()
    for inside in ("#upload-files", "#upload-button", "#library-table", "#gaps"):
        expect(page.locator(inside)).to_be_hidden()


def test_a_member_uploads_a_pdf_that_is_listed_and_cited(page: Page, shared_data: Path) -> None:
    # No other test uploads this PDF, and the session's home starts without it: "Added"
    # is the only right report ("Already in the library" would mean a stale home).
    pdf = shared_data / "pdfs" / "text_layer" / "google-doc-document.pdf"
    sign_in(page, MEMBER)

    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload-files input[type=file]").set_input_files(pdf)
    # The name shows while the file is still uploading; its download link once it is in.
    expect(page.locator(f'#upload-files a[download="{pdf.name}"]')).to_be_visible()
    page.locator("#upload-button").click()
    expect(page.locator("#upload-report")).to_contain_text(
        re.compile(rf"Added \(\d+ passages\): {re.escape(pdf.name)}"), timeout=UPLOAD_MS
    )

    page.get_by_role("tab", name="Library").click()
    row = page.locator("#library-table").get_by_role("row").filter(has_text=pdf.name)
    # Name, kind, credited to the member who uploaded it, day, one document, its passages,
    # and who may read it: members, the Upload tab's default.
    expect(row.get_by_role("gridcell")).to_have_text(
        [pdf.name, "pdf", MEMBER[0], DAY, "1", re.compile(r"^\s*[1-9]\d*\s*$"), "members"]
    )

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, "Is flat better than nested?")
    expect(answer).to_contain_text("Flat is better than nested [1]")
    cited = card_from(page, pdf.name)
    expect(cited).to_have_attribute("data-citation", "1")
    expect(cited.locator(".where")).to_contain_text(MEMBER[0])
    expect(cited.locator("mark")).to_contain_text("Flat is better than nested.")


def test_markup_in_a_post_shows_as_text_and_runs_nothing(page: Page) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    answer = ask(page, "When is the soldering station fume extractor filter changed?")

    expect(answer).to_contain_text("[1]")
    # The answer quotes the notice's sentence: the chat, too, shows the tags as text.
    expect(answer).to_contain_text("<script>document.title='pwned'</script>")
    notice = card_from(page, "notice-board.md")
    expect(notice).to_contain_text("every March")
    # Shown, escaped, as the member wrote it: the visible text holds the tags themselves.
    assert "<script>document.title='pwned'</script>" in notice.inner_text()
    assert "<img src=x onerror=" in notice.inner_text()

    assert dialogs == []
    assert page.title() != "pwned"
    assert page.evaluate("() => document.body.dataset.pwned") is None
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(page.locator('a[href^="javascript:"]')).to_have_count(0)
    scripts = page.evaluate(
        "() => [...document.scripts].filter(s => s.textContent.includes('pwned')).length"
    )
    assert scripts == 0


MATHS_NOTICE = (
    "# Bandsaw blades\n\nThe woodshop bandsaw gets a fresh blade every April "
    r"$$\color{red}{\Huge\text{SECURITY NOTICE: sign in again}}$$"
    " and the old blade goes in the sharps bin.\n"
)


def test_maths_in_a_members_upload_shows_as_text_in_other_peoples_answers(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    notice = tmp_path / "bandsaw-blades.md"
    notice.write_text(MATHS_NOTICE, encoding="utf-8")
    member = page_client(app_url, MEMBER)
    # Shared with everyone, so the guest's answer below can hold it.
    _, report = member.predict([gradio_file(str(notice))], "public", api_name="/upload")
    assert "**Added**" in report
    try:
        answer = ask(page, "When does the woodshop bandsaw get a fresh blade?")
        expect(answer).to_contain_text("[1]")
        expect(answer).to_contain_text("$$\\color{red}{\\Huge\\text{SECURITY NOTICE")
        expect(card_from(page, notice.name)).to_contain_text("$$\\color{red}")
        expect(page.locator(".katex, .katex-display, math")).to_have_count(0)
    finally:
        for _, source_id in member.predict(notice.name, "", api_name="/library")[1]["choices"]:
            member.predict(source_id, api_name="/delete")


def test_a_maintainer_sees_a_question_copqa_could_not_answer_among_the_gaps(page: Page) -> None:
    # Worded unlike the API tests' Wi-Fi question, so only this test can put it in the gaps.
    question = "What is the guest Wi-Fi password at the space?"
    sign_in(page, MAINTAINER)
    maintainers = page.get_by_role("tab", name="Maintainers")
    expect(maintainers).to_be_visible()
    maintainers.click()
    gaps = page.locator("#gaps")
    # Filled on signing in, before the question is asked.
    expect(gaps).to_contain_text(re.compile(r"question|No knowledge gaps yet"))
    expect(gaps).not_to_contain_text(question)

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, question)
    expect(answer).to_contain_text("doesn't cover this")
    expect(page.locator("#sources")).to_contain_text(ABSTAINED)

    maintainers.click()
    expect(gaps).not_to_contain_text(question)  # only Refresh brings it in
    page.locator("#maintainers-refresh").click()
    gap = gaps.locator(".copqa-card").filter(has_text=question)
    expect(gap).to_be_visible()
    expect(gap).to_contain_text("unanswered")


def test_a_guest_rates_an_answer_and_the_maintainers_read_the_comment(
    page: Page, app_url: str
) -> None:
    from gradio_client import Client

    ask(page, "How do I pay for filament?")
    page.locator("#chat").get_by_role("button", name="Dislike").last.click()
    expect(page.get_by_text("Thanks! Add a comment below if you like.")).to_be_visible()
    page.locator("#feedback-comment textarea").fill("The price list moved to the wiki")
    page.get_by_role("button", name="Send comment").click()
    expect(page.get_by_text("Comment saved. Thank you.")).to_be_visible()

    maintainer = Client(app_url, verbose=False)
    maintainer.predict(MAINTAINER[0], MAINTAINER[2], api_name="/sign_in")
    gaps, feedback, _, _, _ = maintainer.predict(api_name="/maintainers")
    assert (
        "The price list moved to the wiki" in feedback and "How do I pay for filament?" in feedback
    )
    assert "rated unhelpful" in gaps
