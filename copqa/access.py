"""Who may read what: the access level of every source, thread and document, and the reader.

A level is one of `public` (guests too), `members` (any signed-in account), a named group
(`group:NAME`: the members of a private channel, or a group a maintainer defines) and
`maintainers`. Anything else, and a level that is missing (a passage an older copqa wrote),
is read as `maintainers`: what copqa cannot place is shown to no one else.

A `Reader` is who asks: a guest, a member with the groups they belong to, or a maintainer.
Searches take the levels a reader may read (`Reader.levels`) and filter inside the vector
and keyword queries, so a passage a reader may not read is never scored.
"""

from __future__ import annotations

from dataclasses import dataclass

from copqa.errors import ConfigError

PUBLIC = "public"
MEMBERS = "members"
MAINTAINERS = "maintainers"
GROUP = "group:"
LEVELS = (PUBLIC, MEMBERS, MAINTAINERS)  # and any `group:NAME`
_RANK = {PUBLIC: 0, MEMBERS: 1, MAINTAINERS: 3}  # a group ranks 2: some members, not all


def parse_level(text: str) -> str:
    """A level as a user wrote it, checked: `public`, `members`, `maintainers` or `group:NAME`.

    Raises:
        ConfigError: Not a level.
    """
    level = text.strip()
    if level.lower() in LEVELS:
        return level.lower()
    if level.startswith(GROUP) and 1 <= len(level[len(GROUP) :].strip()) <= 200:
        return GROUP + level[len(GROUP) :].strip()
    raise ConfigError(f"access level {text!r}: use public, members, maintainers or group:NAME")


def known(level: str) -> str:
    """The level as searches read it: one that is missing or not a level is `maintainers`."""
    if level in LEVELS or (level.startswith(GROUP) and len(level) > len(GROUP)):
        return level
    return MAINTAINERS


def stricter(first: str, second: str) -> str:
    """The level that lets fewer people read: what a source's level and a thread's make together.

    Two different groups make `maintainers`: no one is known to be in both.
    """
    first, second = known(first), known(second)
    if first == second:
        return first
    if first.startswith(GROUP) and second.startswith(GROUP):
        return MAINTAINERS
    rank = [_RANK.get(level, 2) for level in (first, second)]
    return first if rank[0] >= rank[1] else second


def held_to(source_level: str, format_level: str) -> str:
    """The level of a document: its source's, or stricter where its format says so."""
    return stricter(source_level, format_level or source_level)


def group_name(level: str) -> str:
    """The group a `group:NAME` level names ("" for the other levels)."""
    return level[len(GROUP) :] if level.startswith(GROUP) else ""


@dataclass(frozen=True)
class Reader:
    """Who asks: their account's name and role, and the groups they belong to.

    A guest reads `public`; a member also `members` and their groups' levels; a maintainer
    everything, including levels copqa cannot place.
    """

    name: str = ""
    role: str = "newcomer"
    groups: frozenset[str] = frozenset()

    @property
    def is_maintainer(self) -> bool:
        return self.role == "maintainer"

    @property
    def levels(self) -> tuple[str, ...] | None:
        """The levels this reader may read; None for every level (a maintainer)."""
        if self.is_maintainer:
            return None
        if self.role != "member":
            return (PUBLIC,)
        return (PUBLIC, MEMBERS, *sorted(GROUP + g for g in self.groups))

    def may_read(self, level: str) -> bool:
        levels = self.levels
        return levels is None or known(level) in levels

    @property
    def label(self) -> str:
        """Who this is, for messages: `guest`, or the account's name and role."""
        return f"{self.name} ({self.role})" if self.name else "guest"


GUEST = Reader()
MAINTAINER = Reader("maintainer", "maintainer")  # the maintainers' own tools: eval, tuning
