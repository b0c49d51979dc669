"""Threading of mailing-list messages: by reply headers first, then by subject.

``In-Reply-To`` / ``References`` give each message its nearest ancestor present in the
archive; following them up gives the thread's root. Archives lose those headers often
(Pipermail's text archive also drops the ``Re:`` from subjects, and some mailers never
send the headers), so a root whose normalised subject matches a thread that was active
shortly before it joins that thread instead of starting a new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*(?:\[\d+\])?\s*:|\[[^\]]*\])\s*", re.I)
# Replies to a digest share its subject but not its topic: never join them by subject.
_DIGEST_SUBJECT = re.compile(r"\bdigest, vol \d+, issue \d+", re.I)
# A same-subject message this long after a thread's last post is a new question that
# reuses a generic subject ("Stress testing"), not a reply; on the real archive the
# joins this allows are replies and follow-ups up to ~5 months apart.
_SUBJECT_JOIN_SECONDS = 180 * 24 * 3600


class Threadable(Protocol):
    """What threading needs to know about a message."""

    @property
    def key(self) -> str: ...

    @property
    def parents(self) -> tuple[str, ...]:
        """Message-IDs it answers, nearest first (In-Reply-To, then References reversed)."""
        ...

    @property
    def subject(self) -> str: ...

    @property
    def created_at(self) -> int | None: ...


@dataclass(frozen=True)
class Thread:
    """Indexes into the threaded messages: the root, and (message, parent) in posting order."""

    root: int
    members: tuple[tuple[int, int | None], ...]


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and ``[list]`` tags."""
    previous = None
    while previous != subject:
        previous, subject = subject, _SUBJECT_PREFIX.sub("", subject, count=1)
    return subject.strip()


def thread_messages(messages: Sequence[Threadable]) -> list[Thread]:
    """Group messages (in archive order, keys unique) into threads, oldest thread first.

    A message without a date is placed right after the message before it in the archive.
    """
    order = _posting_order(messages)
    parent = _parents(messages)
    by_root: dict[int, list[int]] = {}
    for i in range(len(messages)):
        by_root.setdefault(_root(i, parent), []).append(i)
    threads: dict[int, list[int]] = {}
    last_post: dict[int, int] = {}
    thread_with_subject: dict[str, int] = {}
    for root in sorted(by_root, key=order.__getitem__):
        members = by_root[root]
        subject = clean_subject(messages[root].subject).lower()
        joinable = bool(subject) and not _DIGEST_SUBJECT.search(subject)
        target = thread_with_subject.get(subject) if joinable else None
        if target is not None and order[root][0] - last_post[target] <= _SUBJECT_JOIN_SECONDS:
            threads[target].extend(members)
        else:
            target = root
            threads[root] = list(members)
            if joinable:
                thread_with_subject[subject] = root
        latest = max(order[i][0] for i in members)
        last_post[target] = max(last_post.get(target, latest), latest)
    return [
        Thread(root, tuple((i, parent.get(i)) for i in sorted(indexes, key=order.__getitem__)))
        for root, indexes in threads.items()
    ]


def _parents(messages: Sequence[Threadable]) -> dict[int, int]:
    index_of = {message.key: i for i, message in enumerate(messages)}
    parent: dict[int, int] = {}
    for i, message in enumerate(messages):
        found = (index_of.get(key) for key in message.parents)
        nearest = next((j for j in found if j is not None and j != i), None)
        if nearest is not None:
            parent[i] = nearest
    return parent


def _root(i: int, parent: dict[int, int]) -> int:
    path = [i]
    while i in parent:
        i = parent[i]
        if i in path:  # References can form a cycle: its earliest message is the root
            return min(path[path.index(i) :])
        path.append(i)
    return i


def _posting_order(messages: Sequence[Threadable]) -> list[tuple[int, int]]:
    """Sort keys: the date, or for an undated message the date of the one before it."""
    keys = []
    last = 0
    for i, message in enumerate(messages):
        last = message.created_at if message.created_at is not None else last
        keys.append((last, i))
    return keys
