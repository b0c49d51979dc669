"""The page: Ask for everyone; Upload and Library for members; Maintainers for maintainers.

Who is signed in lives in a per-session `gr.State` on the server. Gradio fills a State
input from the session, never from what a client sends, so every handler's role check
holds for the page and for its API endpoints alike: an anonymous client cannot upload
or delete, whatever it posts.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from copqa.community import ANONYMOUS, Account
from copqa.errors import TooManyAttemptsError
from ui import render
from ui.ask_tab import build_ask_tab
from ui.maintainers_tab import build_maintainers_tab
from ui.members_tabs import build_library_tab, build_upload_tab
from ui.services import PageServices

TITLE = "copqa: ask the community"


def build_page(services: PageServices) -> gr.Blocks:
    age = services.settings.app.cache_seconds
    # Every file sent to the page (a guest's too) waits in Gradio's cache; none stays long.
    with gr.Blocks(title=TITLE, delete_cache=(min(age, 60), age)) as page:
        account = gr.State(ANONYMOUS)
        with gr.Row():
            gr.Markdown(
                "## Ask the community\nAnswers come from the community's own documents and "
                "discussions, and every claim cites the member and post it rests on.",
            )
            signed_in = gr.Markdown(
                _status(ANONYMOUS), elem_id="signed-in", latex_delimiters=render.NO_MATHS
            )
        with gr.Accordion(
            "Sign in (members and maintainers)", open=False, elem_id="sign-in"
        ) as panel:
            with gr.Row():
                name = gr.Textbox(label="Name", elem_id="login-name")
                password = gr.Textbox(label="Password", type="password", elem_id="login-password")
            with gr.Row():
                sign_in = gr.Button("Sign in", elem_id="login-button")
                sign_out = gr.Button("Sign out")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                build_ask_tab(services, account)
            with gr.Tab("Upload", id="upload", visible=False) as upload_tab:
                uploaded = build_upload_tab(services, account)
            with gr.Tab("Library", id="library", visible=False) as library_tab:
                listing, (library_inputs, library_outputs) = build_library_tab(services, account)
            with gr.Tab("Maintainers", id="maintainers", visible=False) as maintainers_tab:
                overview, overview_inputs, overview_outputs = build_maintainers_tab(
                    services, account
                )

        tabs = [upload_tab, library_tab, maintainers_tab]

        def enter(who: str, secret: str, request: gr.Request) -> tuple[Any, ...]:
            try:
                found = services.accounts.verify(who.strip(), secret, _client_host(request))
            except TooManyAttemptsError as exc:
                raise gr.Error(str(exc), title="Sign-in paused") from exc
            if found is None:
                raise gr.Error("Unknown name or wrong password.", title="Not signed in")
            return found, "", _status(found), gr.Accordion(open=False), *_visible_tabs(found)

        def leave() -> tuple[Any, ...]:
            return ANONYMOUS, "", _status(ANONYMOUS), gr.skip(), *_visible_tabs(ANONYMOUS)

        session_outputs = [account, password, signed_in, panel, *tabs]
        entered = sign_in.click(enter, [name, password], session_outputs, api_name="sign_in")
        password.submit(enter, [name, password], session_outputs, api_visibility="private")
        sign_out.click(leave, None, session_outputs, api_name="sign_out")
        # After signing in, the member's tabs open filled in.
        entered.success(
            _if_member(listing), library_inputs, library_outputs, api_visibility="private"
        )
        entered.success(
            _if_maintainer(overview, len(overview_outputs)),
            overview_inputs,
            overview_outputs,
            api_visibility="private",
        )
        uploaded.then(
            _if_member(listing), library_inputs, library_outputs, api_visibility="private"
        )
    return page


def _client_host(request: gr.Request | None) -> str:
    """Who is signing in, for the sign-in limits: the connection's host (behind a proxy,
    every visitor shares the proxy's)."""
    client = getattr(request, "client", None)
    return str(getattr(client, "host", "") or "")


def _status(who: Account) -> str:
    if not who.name:
        return "*Asking as a guest.*"
    return f"Signed in as **{who.name}** ({who.role})."


def _visible_tabs(who: Account) -> list[Any]:
    return [
        gr.Tab(visible=who.can_upload),
        gr.Tab(visible=who.can_upload),
        gr.Tab(visible=who.is_maintainer),
    ]


def _if_member(listing: Any) -> Any:
    """The library listing, skipped (not refused) for a session that may not see it."""

    def refresh(query: str, kind: str, who: Account) -> tuple[Any, ...]:
        return listing(query, kind, who) if who.can_upload else (gr.skip(), gr.skip())

    return refresh


def _if_maintainer(overview: Any, outputs: int) -> Any:
    def refresh(who: Account) -> tuple[Any, ...]:
        return overview(who) if who.is_maintainer else (gr.skip(),) * outputs

    return refresh
