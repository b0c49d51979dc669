"""Accounts of the page under test, as (name, role, password)."""

from __future__ import annotations

MAINTAINER = ("ada", "maintainer", "correct horse battery")
MEMBER = ("bob", "member", "bob's long password")
OTHER_MEMBER = ("cleo", "member", "cleo's long password")
