"""The one question every feature answers for `/forget-me`: "delete this member's data here".

Each feature that holds something a member wrote (answers, votes in named polls, reflections)
implements `HoldsMemberData`; the privacy cog loops over them (`Services.member_data`), deletes
the posts they name from Discord, and tells the member what went. A new feature that keeps
member data joins the loop by implementing it, as Red's cogs answer `red_delete_data_for_user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["answers", "votes", "reflections"]


@dataclass(frozen=True, slots=True)
class MemberDataDeleted:
    kind: Kind
    #: rows deleted now
    deleted: int
    #: rows that go later on their own (shared reflections: each at a random time within a day)
    later: int = 0
    #: (channel or thread id, message id) of posts to delete from Discord now
    posts: tuple[tuple[int, int], ...] = ()
    #: polls whose counts changed (their messages are refreshed)
    polls: tuple[int, ...] = ()


class HoldsMemberData(Protocol):
    async def forget_member(self, guild_id: int, user_id: int) -> MemberDataDeleted:
        """Delete what this feature holds of the member in this server. Idempotent."""
        ...
