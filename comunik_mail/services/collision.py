"""Collision detection, pure: who is on a conversation right now, and what arrived since a composer opened.

No ORM here: the models (``comunik.mail.conversation.activity`` and the composers) feed plain values in.
"""

import re
from datetime import datetime, timedelta

#: Activities a user can announce on a conversation; ``none`` removes theirs.
ACTIVITIES = ("viewing", "replying")
#: Seconds an announcement stays true without a heartbeat (the web client repeats it every HEARTBEAT seconds).
ACTIVITY_TTL = 60
HEARTBEAT = 30
#: Characters of a new message shown in the composer's confirmation.
EXCERPT_LENGTH = 160

_SPACES = re.compile(r"\s+")


def is_fresh(date: datetime | None, now: datetime, ttl: int = ACTIVITY_TTL) -> bool:
    """Whether an announcement made at ``date`` still holds at ``now``: within ``ttl`` seconds, not in the future
    by more than that (a clock jump must not make an entry immortal)."""
    if not date:
        return False
    return abs((now - date).total_seconds()) < ttl


def expires_in(date: datetime, now: datetime, ttl: int = ACTIVITY_TTL) -> int:
    """Whole seconds left before an announcement made at ``date`` expires (0 when stale), sent to the web clients
    instead of a date so that their clocks need not agree with the server's."""
    left = ttl - (now - date).total_seconds()
    return max(0, min(ttl, int(left)))


def stale_before(now: datetime, ttl: int = ACTIVITY_TTL) -> datetime:
    """Announcements made before this are stale."""
    return now - timedelta(seconds=ttl)


def effective_activity(activities) -> str:
    """What a user is doing on a conversation from their open screens: replying wins over viewing."""
    found = set(activities)
    for activity in ("replying", "viewing"):
        if activity in found:
            return activity
    return "none"


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The first ``length`` characters of a message's text, on one line, cut at a word with « … »."""
    flat = _SPACES.sub(" ", text or "").strip()
    if len(flat) <= length:
        return flat
    cut = flat[:length]
    if " " in cut[length // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def unconfirmed(message_ids, seen_id: int, confirmed_up_to: int = 0):
    """Ids of the messages newer than the last one the composer saw and not confirmed yet.

    ``seen_id`` 0 (no marker, e.g. an API client) means no check: nothing is returned.
    """
    if not seen_id:
        return []
    floor = max(int(seen_id), int(confirmed_up_to or 0))
    return sorted(mid for mid in message_ids if mid > floor)
