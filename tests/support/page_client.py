"""The page's API as a `gradio_client` user meets it: a session, signed in or not."""

from __future__ import annotations

from gradio_client import Client


def page_client(url: str, account: tuple[str, str, str] | None = None) -> Client:
    """A session on the page at `url`; signed in when given an account (name, role, password)."""
    client = Client(url, verbose=False)
    if account is not None:
        name, _, password = account
        _, status = client.predict(name, password, api_name="/sign_in")
        assert f"**{name}**" in status
    return client


def last_answer(chat: list[dict]) -> str:
    """The text of the chat's last message, which must be the assistant's."""
    assert chat[-1]["role"] == "assistant"
    content = chat[-1]["content"]
    return " ".join(part["text"] for part in content) if isinstance(content, list) else content
