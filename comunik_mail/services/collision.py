"""Collision detection, pure: who is on a conversation right now, and what arrived since a composer opened.

No ORM here: the models (``comunik.mail.conversation.activity`` and the composers) feed plain values in.
"""

import re
from datetime import datetime, timedelta

#: Activities a user can announce on a conversation; ``none`` removes theirs.
ACTIVITIES = ("viewing", "replying")
#: Seconds an announcement stays true without a heartbeat (the web client repeats it every 30 seconds).
ACTIVITY_TTL = 60
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


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The first ``length`` characters of a message's text, on one line, cut at a word with « … »."""
    flat = _SPACES.sub(" ", text or "").strip()
    if len(flat) <= length:
        return flat
    cut = flat[:length]
    if " " in cut[length // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def guard_floor(seen_id, confirmed_up_to=0):
    """The message id above which a reply's send guard looks: the newest the composer saw, or the newest the
    user already confirmed. None without a marker (``seen_id`` 0, e.g. an API client): no check."""
    if not seen_id:
        return None
    return max(int(seen_id), int(confirmed_up_to or 0))
