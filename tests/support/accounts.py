"""Accounts of the page under test, as (name, role, password)."""

from __future__ import annotations

from copqa.access import Reader
from copqa.models import SearchFilter

MAINTAINER = ("ada", "maintainer", "correct horse battery")
MEMBER = ("bob", "member", "bob's long password")
OTHER_MEMBER = ("cleo", "member", "cleo's long password")

# What a signed-in member with no groups may read, as a search filter.
AS_MEMBER = SearchFilter(levels=Reader("bob", "member").levels)
