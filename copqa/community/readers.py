"""Who is asking: an account as a `Reader`, with the groups its sources list it in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from copqa.access import GUEST, Reader
from copqa.community.accounts import Account
from copqa.community.members import MemberDirectory
from copqa.store import Store


def reader_for(
    account: Account | None, store: Store, aliases: Mapping[str, Iterable[str]]
) -> Reader:
    """The reader an account is: a guest without one; a member in the groups that list them.

    A group lists a member by id (`slack:U01…`, matched through the alias map and the
    member directory) or by name: an account is in it when its name, an alias of it, or
    an id it posted under is among the group's members, as the source last listed them.
    """
    if account is None or not account.name or account.role not in ("member", "maintainer"):
        return GUEST
    if account.is_maintainer:
        return Reader(account.name, "maintainer")
    keys, names = MemberDirectory(store.members(), aliases).keys_of(account.name)
    return Reader(account.name, "member", store.groups_of(keys, names))
