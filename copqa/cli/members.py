"""`copqa members`: the member directory, forgetting a member, and the page's accounts."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from copqa.assistant import Assistant
from copqa.cli.maintenance import open_store
from copqa.community import Account
from copqa.errors import CopqaError
from copqa.models import iso_day
from copqa.settings import Settings


def add_members_parser(commands: argparse._SubParsersAction) -> None:
    members = commands.add_parser(
        "members", help="the member directory and accounts; forget a member"
    )
    members.add_argument(
        "action",
        nargs="?",
        choices=["list", "forget", "add", "remove", "accounts", "groups"],
        default="list",
        help="list posters (default), forget one; add, remove or list accounts; list the "
        "groups of private places and their members",
    )
    members.add_argument("name", nargs="?", help="with forget: name or id; add, remove: account")
    members.add_argument("--role", choices=["member", "maintainer"], help="with add: the role")
    members.add_argument(
        "--password-stdin", action="store_true", help="with add: read the password from stdin"
    )
    members.add_argument("--json", action="store_true", help="print as JSON")
    members.set_defaults(run=_members)


def _members(args: argparse.Namespace, settings: Settings) -> int:
    from copqa.community import MemberDirectory

    if args.action in ("add", "remove", "accounts"):
        return _accounts(args, settings)
    if args.action == "groups":
        return _groups(args, settings)
    assistant = Assistant.from_settings(settings)
    directory = MemberDirectory(assistant.store.members(), settings.members.aliases)
    if args.action == "forget":
        return _forget(args, settings, assistant, directory.identities(args.name or ""))
    listing = [
        {
            "name": m.name,
            "source_ids": list(m.source_ids),
            "posts": m.posts,
            "channels": list(m.channels),
            "first_seen": iso_day(m.first_seen),
            "last_seen": iso_day(m.last_seen),
        }
        for m in directory.members()
    ]
    if args.json:
        print(json.dumps(listing, indent=2, ensure_ascii=False))
    else:
        for member in directory.members():
            print(
                f"{member.name}: {member.posts} posts in {', '.join(member.channels) or '-'}, "
                f"{iso_day(member.first_seen)} to {iso_day(member.last_seen)}"
            )
    return 0


def _forget(
    args: argparse.Namespace, settings: Settings, assistant: Assistant, keys: set[str]
) -> int:
    from ingest.factory import build_pipeline
    from ingest.forgetting import forget_member

    if not args.name:
        raise CopqaError("members forget needs the member's name or id")
    pipeline = build_pipeline(settings, assistant.store, assistant.embedder)
    report = forget_member(assistant.store, pipeline, keys)
    result = {
        "member": args.name,
        "identities": sorted(keys),
        "posts_removed": report.posts_removed,
        "threads_rechunked": report.threads_rechunked,
        "threads_removed": report.threads_removed,
        "uploads_removed": report.uploads_removed,
        "mentions_replaced": report.mentions_replaced,
    }
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(
            f"forgot {args.name}: {report.posts_removed} posts removed, "
            f"{report.threads_rechunked} threads re-chunked, {report.threads_removed} removed, "
            f"{report.uploads_removed} uploads removed, {report.mentions_replaced} mentions replaced"
        )
    return 0


def _accounts(args: argparse.Namespace, settings: Settings) -> int:
    """Account commands: only the catalog, never the embedding model."""
    from copqa.community import CommunityRecords

    if args.action != "accounts" and not args.name:
        raise CopqaError(f"members {args.action} needs the account name")
    if args.action == "add" and not args.role:
        raise CopqaError("members add needs --role member or --role maintainer")
    password = _new_password(args) if args.action == "add" else ""
    with CommunityRecords.open(settings) as records:
        accounts = records.accounts
        if args.action == "add":
            account = accounts.add(args.name, args.role, password)
            print(f"account {account.name} added as {account.role}")
        elif args.action == "remove":
            if not accounts.remove(args.name):
                raise CopqaError(f"no account named {args.name!r}; see `copqa members accounts`")
            print(f"account {args.name.strip()} removed")
        else:
            _list_accounts(accounts.list(), settings, args.json)
    return 0


def _groups(args: argparse.Namespace, settings: Settings) -> int:
    """Each group a source lists, with its members as that source names them."""
    from copqa.store import catalog_exists

    members: dict[str, list[str]] = {}
    if catalog_exists(settings.home, settings.catalog):
        store = open_store(settings)
        try:
            for row in store.group_members():
                members.setdefault(row.group, []).append(f"{row.name} ({row.member})")
        finally:
            store.close()
    if args.json:
        print(json.dumps(members, indent=2, ensure_ascii=False))
    else:
        for group, names in members.items():
            print(f"{group}: {', '.join(names)}")
    return 0


def _list_accounts(accounts: list[Account], settings: Settings, as_json: bool) -> None:
    """Each account's role, and the groups its sources list it in (what it may read)."""
    from copqa.community import reader_for
    from copqa.store import catalog_exists

    groups: dict[str, list[str]] = {a.name: [] for a in accounts}
    if accounts and catalog_exists(settings.home, settings.catalog):
        store = open_store(settings)
        try:
            for account in accounts:
                reader = reader_for(account, store, settings.members.aliases)
                groups[account.name] = sorted(reader.groups)
        finally:
            store.close()
    if as_json:
        listing = [{"name": a.name, "role": a.role, "groups": groups[a.name]} for a in accounts]
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    for account in accounts:
        reads = "every level" if account.is_maintainer else ", ".join(groups[account.name])
        print(f"{account.name}: {account.role}" + (f"; groups: {reads}" if reads else ""))


def _new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("the same again: ") != password:
        raise CopqaError("the two passwords differ; nothing was changed")
    return password
