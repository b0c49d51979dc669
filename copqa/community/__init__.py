"""The community's side: accounts, activity, members, the library of sources, knowledge gaps."""

from copqa.community.accounts import ANONYMOUS, Account, Accounts
from copqa.community.activity import ActivityLog, EvaluationRecord, FeedbackRecord, RunRecord
from copqa.community.gaps import Gap, as_cases, knowledge_gaps
from copqa.community.library import Library, Shelf
from copqa.community.members import MemberDirectory
from copqa.community.readers import reader_for
from copqa.community.records import COMMUNITY_TABLES, CommunityRecords

__all__ = [
    "ANONYMOUS",
    "COMMUNITY_TABLES",
    "Account",
    "Accounts",
    "ActivityLog",
    "CommunityRecords",
    "EvaluationRecord",
    "FeedbackRecord",
    "Gap",
    "Library",
    "MemberDirectory",
    "RunRecord",
    "Shelf",
    "as_cases",
    "knowledge_gaps",
    "reader_for",
]
