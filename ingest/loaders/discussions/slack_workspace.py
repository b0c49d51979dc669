"""Who and where in a Slack workspace: names for member, bot and channel ids, and who may read.

Slack messages name people and channels by id (`U01…`, `B01…`, `C01…`), in their
fields and inside their mrkdwn text. The export's `users.json` and `channels.json`
turn those ids back into the names people know.

The export also lists its private conversations, each with a `members` list of user ids:
private channels in `groups.json` (or marked `"is_private": true` in `channels.json`),
group DMs in `mpims.json` (folder: the entry's `name`) and DMs in `dms.json` (folder: the
entry's `id`). A private conversation's threads are for its members only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from copqa.access import GROUP, MAINTAINERS
from copqa.models import LoadFailure
from ingest.loaders.archive import ExportFiles, read_json

_MARKUP = re.compile(r"<([^<>\n]+)>")
_SCHEME = re.compile(r"^(?:https?://|mailto:)")
_BROADCASTS = frozenset({"here", "channel", "everyone"})
_SLACKBOT = "USLACKBOT"


def mrkdwn_to_text(
    text: str, user_names: Mapping[str, str], channel_names: Mapping[str, str]
) -> str:
    """Plain text from Slack mrkdwn, with mentions and links made readable.

    `<@U1>` becomes `@Name`, `<#C1|general>` becomes `#general`, `<url|label>` becomes
    `label`, as Slack shows it, with `(label: url)` at the end of its line, `<!here>`
    becomes `@here`, and `&amp; &lt; &gt;` are decoded.

    Args:
        text: A message's `text` field.
        user_names: Member id to display name; an unknown id is kept as it is.
        channel_names: Channel id to name, for channel links without a label.
    """

    addresses: list[str] = []  # of the line's labelled links

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + user_names.get(target[1:], label.lstrip("@") or target[1:])
        if target.startswith("#"):
            return "#" + (label or channel_names.get(target[1:], target[1:]))
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            # Labels of <!subteam^S1|@team> and <!date^...|fallback> are the readable part.
            return "@" + special if special in _BROADCASTS or not label else label
        if not label or label in (target, _SCHEME.sub("", target)):
            # Slack links bare text it takes for an address: "is.na" -> <http://is.na|is.na>.
            return label or target
        addresses.append(f"{label}: {target}")
        return label

    def line_text(line: str) -> str:
        plain = _MARKUP.sub(readable, line)
        if addresses:
            plain += f" ({'; '.join(addresses)})"
            addresses.clear()
        return plain

    plain = "\n".join(line_text(line) for line in text.split("\n"))
    # Slack escapes only these three; `&amp;` last so `&amp;lt;` stays the text "&lt;".
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


@dataclass(frozen=True)
class PrivateConversation:
    """A private channel, group DM or DM, as the export lists it.

    Attributes:
        id: Its Slack id (`G…`, `C…`, `D…`); "" when its listing gives none.
        what: What it is and which listing says so, e.g. "a DM (dms.json)".
        direct: A DM or a group DM: ingested only when a maintainer asks for it.
        members: Its members' user ids, in the listing's order; empty when the listing
            has no readable `members` list.
    """

    id: str
    what: str
    direct: bool
    members: tuple[str, ...]


@dataclass(frozen=True)
class SlackWorkspace:
    """The names behind a workspace's ids, read from its export.

    Attributes:
        team: The workspace's team id (`T01…`), "" when `users.json` is unreadable.
        members: `users.json` records by member id.
        user_names: Member id to display name.
        bot_names: An app's bot id (`B01…`) to the name of its bot member.
        channel_ids: Channel (folder) name to channel id.
        channel_names: Channel id to name.
        private: Folders of private channels, DMs and group DMs, and what the export says
            of each.
        public_only: Only the folders `channels.json` lists as public may be read (a list of
            conversations could not be read, so which others are private is unknown).
    """

    team: str
    members: Mapping[str, Mapping[str, Any]]
    user_names: Mapping[str, str]
    bot_names: Mapping[str, str]
    channel_ids: Mapping[str, str]
    channel_names: Mapping[str, str]
    private: Mapping[str, PrivateConversation] = dataclass_field(default_factory=dict)
    public_only: bool = False

    def refusal(self, folder: str, direct_messages: bool = False) -> str:
        """Why a channel folder is left out ("" when it may be read).

        DMs and group DMs are left out unless a maintainer asked for them
        (`direct_messages`); with `public_only`, so is every folder not listed as public.
        """
        conversation = self.private.get(folder)
        if conversation is not None and conversation.direct and not direct_messages:
            return (
                f"left out, not ingested: {conversation.what}; to ingest DMs and group DMs, "
                "each for its members only, set COPQA_INGEST__DIRECT_MESSAGES=true"
            )
        if self.public_only and folder not in self.channel_ids:
            return "left out, not ingested: not listed as a public channel in channels.json"
        return ""

    def access(self, folder: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Who may read a folder's threads, as the export says: the level and its readers.

        A public channel restricts nothing: `("", ())`. A private conversation is the group
        of its members, `group:#<folder>`, each member an (id, name) pair, the id kept as
        the name of a member `users.json` does not list; without a members list no one is
        known to be in it, so it is `maintainers`.
        """
        conversation = self.private.get(folder)
        if conversation is None:
            return "", ()
        if not conversation.members:
            return MAINTAINERS, ()
        readers = tuple((uid, self.user_names.get(uid, uid)) for uid in conversation.members)
        return f"{GROUP}#{folder}", readers

    def channel_id(self, folder: str) -> str:
        """The Slack id of a channel folder's conversation, "" when no listing gives it."""
        conversation = self.private.get(folder)
        return self.channel_ids.get(folder) or (conversation.id if conversation else "")

    def text(self, mrkdwn: str) -> str:
        """A message's mrkdwn as plain text, mentions resolved to names."""
        return mrkdwn_to_text(mrkdwn, self.user_names, self.channel_names)

    def author_name(self, message: Mapping[str, Any]) -> str:
        """The display name of whoever posted `message`: a member, an app or a bridge."""
        user = _string(message, "user")
        if user in self.user_names:
            return self.user_names[user]
        if user == _SLACKBOT:
            return "Slackbot"
        if user:
            # A member missing from users.json may still be named by the message itself.
            profile = message.get("user_profile")
            return (_display_name(profile) if isinstance(profile, dict) else "") or user
        bot_id = _string(message, "bot_id")
        bot = message.get("bot_profile")
        return (
            _string(message, "username")  # what a bridge or webhook posts as
            or (_string(bot, "name") if isinstance(bot, dict) else "")
            or self.bot_names.get(bot_id, bot_id)
            or "unknown"
        )

    def is_bot(self, message: Mapping[str, Any]) -> bool:
        """True when an app, a bot member or Slackbot posted `message`."""
        user = _string(message, "user")
        member = self.members.get(user, {})
        return bool(
            message.get("subtype") == "bot_message"
            or message.get("bot_id")
            or user == _SLACKBOT
            or member.get("is_bot")
            or member.get("is_app_user")
        )


# What a Slack export lists besides public channels, the key naming each one's folder,
# and whether it is a direct conversation (a DM or a group DM).
_PRIVATE_LISTINGS = (
    ("groups.json", "a private channel", "name", False),
    ("mpims.json", "a group DM", "name", True),
    ("dms.json", "a DM", "id", True),
)


def read_workspace(export: ExportFiles) -> tuple[SlackWorkspace, list[LoadFailure]]:
    """The workspace's names from `users.json` and `channels.json`, and why any is missing.

    Without `users.json` the export still loads, with member ids where names would be.
    """
    failures: list[LoadFailure] = []
    members: dict[str, Mapping[str, Any]] = {}
    if "users.json" in export.names:
        users, failure = read_json(export, "users.json", list)
        failures += [failure] if failure else []
        members = {u["id"]: u for u in users or () if isinstance(u, dict) and _string(u, "id")}
    else:
        failures.append(LoadFailure(export.where("users.json"), "missing: ids shown as names"))
    channel_ids: dict[str, str] = {}
    private: dict[str, PrivateConversation] = {}
    public_only = False
    if "channels.json" in export.names:
        channels, failure = read_json(export, "channels.json", list)
        if failure is not None:
            failures.append(failure)
            public_only = True  # fail closed: which channels it marks private is unknown
        for channel in channels or ():
            if isinstance(channel, dict) and _string(channel, "id") and _string(channel, "name"):
                if channel.get("is_private"):
                    what = "a private channel (channels.json)"
                    private[channel["name"]] = _conversation(channel, what, direct=False)
                else:
                    channel_ids[channel["name"]] = channel["id"]
    for listing, what, folder_key, direct in _PRIVATE_LISTINGS:
        if listing not in export.names:
            continue
        records, failure = read_json(export, listing, list)
        if failure is not None:
            failures.append(failure)
            public_only = True  # fail closed: which folders are private is unknown
        for record in records or ():
            if isinstance(record, dict) and (folder := _string(record, folder_key)):
                private[folder] = _conversation(record, f"{what} ({listing})", direct)
    teams = Counter(_string(member, "team_id") for member in members.values())
    workspace = SlackWorkspace(
        team=teams.most_common(1)[0][0] if teams else "",
        members=members,
        user_names={uid: _display_name(member) or uid for uid, member in members.items()},
        bot_names={
            bot_id: _display_name(member)
            for member in members.values()
            if isinstance(member.get("profile"), dict)
            and (bot_id := _string(member["profile"], "bot_id"))
        },
        channel_ids=channel_ids,
        channel_names={cid: name for name, cid in channel_ids.items()},
        private=private,
        public_only=public_only,
    )
    return workspace, failures


def _conversation(record: Mapping[str, Any], what: str, direct: bool) -> PrivateConversation:
    """A private conversation from its listing's entry, whose `members` may read it."""
    members = record.get("members")
    ids = members if isinstance(members, list) else []
    return PrivateConversation(
        id=_string(record, "id"),
        what=what,
        direct=direct,
        members=tuple(dict.fromkeys(uid for uid in ids if isinstance(uid, str) and uid)),
    )


def _display_name(member: Mapping[str, Any]) -> str:
    """Display name, then real name, then user name (users.json or a message's profile)."""
    profile = member.get("profile")
    profile = profile if isinstance(profile, dict) else member
    for record, field in (
        (profile, "display_name"),
        (profile, "real_name"),
        (member, "real_name"),
        (member, "name"),
    ):
        if name := _string(record, field).strip():
            return name
    return ""


def _string(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""
