"""The text of a mailing-list message, and the part of it that its author wrote.

`header_text` and `message_text` turn a parsed message's headers and MIME parts into
text. Replies on mailing lists carry the whole conversation with them: quoted lines, an
attribution ("On ... wrote:"), an Outlook header block followed by the unquoted
original, a signature, the list footer and Pipermail's attachment stubs. Indexing that
would file every earlier message again under the replier's name, so `authored_text`
keeps only the new words.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message

from ingest.loaders.documents.html import html_to_text

# Pipermail escapes body lines starting with "From " as ">From "; those are the
# author's words, not a quotation.
_FROM_ESCAPE = re.compile(r"^>(>*From )")
_QUOTED = re.compile(r"^\s*>")
_ATTRIBUTION_END = re.compile(r"(wrote|writes|a écrit|schrieb|escribió)\s*:\s*$", re.I)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|Am|El)\s.*\d")
_ADDRESS = re.compile(r"[\w.+-]+(@| at )[\w-]+(\.[\w-]+)+")
# Where the author's part ends: the unquoted original of a top-posted reply (after an
# "Original Message" rule or an Outlook/Yahoo header block, which some mailers glue to
# the end of the last line), the signature, the list footer, a pasted digest.
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}", re.I)
_HEADER_FROM = re.compile(r"(^|\s)\*?(From|De|Von):\*?\s*\S")
_HEADER_SENT = re.compile(r"^\s*\*?(Sent|Enviado(?: el)?|Envoyé|Gesendet):\*?\s*\S")
_HEADER_DATE = re.compile(r"^\s*\*?Date:\*?\s+\S")
_HEADER_SUBJECT = re.compile(r"^\s*\*?Subject:")
_SIGNATURE = re.compile(r"^-- ?$")
_DIGEST_ENTRY = re.compile(r"^Message: \d+$")
_RULE = re.compile(r"^\s*_{20,}\s*$")
_FOOTER_HINT = re.compile(r"mailing list|^\s*\*?From:", re.I)
# Pipermail replaces an attachment by a stub: a "next part" rule, a notice, fields.
_NEXT_PART = re.compile(r"^-{5,} next part -{5,}$")
_SCRUBBED = re.compile(r"^An? .* was scrubbed\.\.\.$")
_STUB_FIELD = re.compile(r"^(Name|Type|Size|Desc|URL): ")
_BLANK_RUNS = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"\s+")

_HEADER_LINES = 4
_HEADER_BLOCK_LINES = 6


def authored_text(body: str, is_reply: bool = True) -> str:
    """The author's own words in a plain-text mail body.

    Drops quoted lines (``> ...``) and their attribution line, and cuts at the first of:
    an ``-----Original Message-----`` line, an Outlook ``From: ... Sent: ...`` header
    block, a signature separator (``-- ``), a mailing-list footer rule or a pasted
    digest entry. Pipermail attachment stubs are removed; text attachments that
    Pipermail inlined are kept.

    Args:
        body: The decoded plain-text body of one message.
        is_reply: False for a message that starts a thread: its ``>`` lines are then
            kept unless an attribution line shows they quote someone, since a first
            message often uses ``>`` for bullets or shell prompts.

    Returns:
        The remaining text, blank runs collapsed, or ``""`` when nothing is left.
    """
    lines = [_FROM_ESCAPE.sub(r"\1", line.rstrip()) for line in body.splitlines()]
    drop_quotes = is_reply or any(_is_attribution(lines, i) for i in range(len(lines)))
    kept: list[str] = []
    in_stub = False
    for i, line in enumerate(lines):
        end = _authored_end(lines, i)
        if end is not None:
            kept.append(line[:end])
            break
        if _NEXT_PART.match(line) or _SCRUBBED.match(line):
            in_stub = True
            continue
        if in_stub and (_STUB_FIELD.match(line) or _SCRUBBED.match(line)):
            continue
        in_stub = False
        if drop_quotes and _QUOTED.match(line):
            continue
        if drop_quotes and _is_attribution(lines, i):
            _drop_wrapped_attribution(kept, line)
            continue
        kept.append(line)
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()


def header_text(message: Message, name: str) -> str:
    """A header as one line of text: RFC 2047 words decoded, undeclared 8-bit bytes guessed."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        parts = decode_header(value)
    except (HeaderParseError, ValueError):
        parts = [(str(value), None)]
    text = "".join(_header_part(data, charset) for data, charset in parts)
    return _SPACES.sub(" ", text).strip()


def message_text(message: Message) -> str:
    """A message's text: its text/plain parts, else its HTML parts as text.

    Transfer encodings (quoted-printable, base64) and declared charsets are decoded;
    attachments are skipped.
    """
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            plain.append(_decoded(part))
        elif part.get_content_type() == "text/html":
            html.append(html_to_text(_decoded(part)))
    return "\n\n".join(plain or html)


def _header_part(data: bytes | str, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    if charset is None or charset == "unknown-8bit":  # compat32's name for raw 8-bit
        return _undeclared_text(data)
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):  # unknown; no "replace" (idna); a NUL in the name
        return _undeclared_text(data)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset()
    if charset is None:
        return _undeclared_text(payload)
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError):  # unknown; no "replace" (idna); a NUL in the name
        return payload.decode("utf-8", errors="replace")


def _undeclared_text(data: bytes) -> str:
    """Bytes of unknown charset as text: UTF-8, else Latin-1 (old lists' usual 8-bit)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _authored_end(lines: list[str], i: int) -> int | None:
    """Where on line `i` the author's part ends (0: the whole line goes), or None."""
    line = lines[i]
    if any(p.match(line) for p in (_ORIGINAL_MESSAGE, _SIGNATURE, _DIGEST_ENTRY)):
        return 0
    if _RULE.match(line):
        following = lines[i + 1 : i + 1 + _HEADER_LINES]
        return 0 if any(_FOOTER_HINT.search(nxt) for nxt in following) else None
    header = _HEADER_FROM.search(line)
    if header is None:
        return None
    # "Sent:" is Outlook's own; "Date:" also heads SIP messages pasted into a post,
    # so a block with it must have a "Subject:" too.
    block = lines[i + 1 : i + 1 + _HEADER_BLOCK_LINES]
    outlook = any(_HEADER_SENT.match(nxt) for nxt in block[:_HEADER_LINES])
    mail = any(_HEADER_DATE.match(n) for n in block) and any(
        _HEADER_SUBJECT.match(n) for n in block
    )
    return header.start() if outlook or mail else None


def _is_attribution(lines: list[str], i: int) -> bool:
    """ "On <date>, <name> wrote:", or Gmail's "<date> <name> <address>:" before a quote."""
    line = lines[i]
    if _ATTRIBUTION_END.search(line):
        return bool(_ATTRIBUTION_START.match(line)) or _quote_follows(lines, i)
    return line.endswith(":") and bool(_ADDRESS.search(line)) and _quote_follows(lines, i)


def _drop_wrapped_attribution(kept: list[str], line: str) -> None:
    """Remove the first lines of an attribution that the mailer wrapped onto 2-3 lines."""
    if _ATTRIBUTION_START.match(line):
        return
    for depth in (1, 2):
        if len(kept) >= depth and _ATTRIBUTION_START.match(kept[-depth]):
            del kept[-depth:]
            return


def _quote_follows(lines: list[str], i: int) -> bool:
    for nxt in lines[i + 1 :]:
        if nxt.strip():
            return bool(_QUOTED.match(nxt))
    return False
