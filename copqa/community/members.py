"""The member directory: who posted where and when, one entry per person.

A person appears once per source they posted in (a Slack id, an e-mail address...). An
explicit alias map merges them: `{"Kara Woo": ["kara", "slack:U01DY0U758E", "kara@example.org"]}`
(display names, author ids, or `kind:author_id`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from copqa.store import MemberRecord


@dataclass(frozen=True)
class Member:
    name: str
    source_ids: tuple[str, ...]  # "kind:author_id"
    posts: int
    channels: tuple[str, ...]
    first_seen: int | None
    last_seen: int | None


class MemberDirectory:
    def __init__(
        self, records: Sequence[MemberRecord], aliases: Mapping[str, Iterable[str]]
    ) -> None:
        self._records = list(records)
        self._canonical: dict[str, str] = {}
        for name, others in aliases.items():
            for alias in [name, *others]:
                self._canonical[alias] = name

    def canonical_name(self, record: MemberRecord) -> str:
        for key in (f"{record.kind}:{record.author_id}", record.author_id, record.name):
            if key in self._canonical:
                return self._canonical[key]
        return record.name

    def members(self) -> list[Member]:
        grouped: dict[str, list[MemberRecord]] = {}
        for record in self._records:
            grouped.setdefault(self.canonical_name(record), []).append(record)
        members = [_merge(name, records) for name, records in grouped.items()]
        return sorted(members, key=lambda m: (-m.posts, m.name))

    def identities(self, name: str) -> set[str]:
        """Every author id and display name under which this person posted."""
        keys = {name}
        canonical = self._canonical.get(name, name)
        for record in self._records:
            if canonical in (self.canonical_name(record), record.name, record.author_id):
                keys |= {record.author_id, record.name}
        return keys

    def keys_of(self, name: str) -> tuple[set[str], set[str]]:
        """How sources may list this person: member keys (`kind:author_id`) and names.

        Through the alias map and the records merged under the same person; a name that
        is neither an alias nor a record's is only itself.
        """
        canonical = self._canonical.get(name, name)
        aliases = {a for a, c in self._canonical.items() if c == canonical} | {name, canonical}
        records = [r for r in self._records if self.canonical_name(r) == canonical]
        keys = {a for a in aliases if ":" in a} | {f"{r.kind}:{r.author_id}" for r in records}
        names = {a for a in aliases if ":" not in a}
        return keys, names


def _merge(name: str, records: list[MemberRecord]) -> Member:
    firsts = [r.first_seen for r in records if r.first_seen is not None]
    lasts = [r.last_seen for r in records if r.last_seen is not None]
    return Member(
        name=name,
        source_ids=tuple(sorted(f"{r.kind}:{r.author_id}" for r in records)),
        posts=sum(r.posts for r in records),
        channels=tuple(sorted({c for r in records for c in r.channels})),
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
    )
