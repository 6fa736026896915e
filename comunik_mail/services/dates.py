"""Dates of a received email: which one orders the inbox, which one is shown, both always sane.

An email carries two dates. The sender's ``Date:`` header is written by the sender's clock
(or by a spammer, or by a broken script: year 9999, year 0, ``-9999`` offsets...), so it is
shown but never trusted. The IMAP ``INTERNALDATE`` is set by the receiving server: it is the
date that orders the inbox and starts response deadlines. Both go through here, so that no
absurd value ever reaches a deadline computation (``date + delay`` overflowing past year
9999 used to stop a mailbox for good) or a sort.

Every datetime in and out of this module is naive UTC, as Odoo stores them.
"""

import email.utils
from datetime import UTC, datetime, timedelta

#: Nothing received before this is plausible (IMAP itself is younger); older INTERNALDATEs are server bugs.
MIN_RECEIVE = datetime(1990, 1, 1)
#: Clock skew tolerated between the IMAP server and us.
RECEIVE_SKEW = timedelta(days=1)
#: Oldest sender date shown (the Unix epoch: older ones are always broken clocks or forgeries).
MIN_HEADER = datetime(1970, 1, 1)
#: Sender dates further in the future than this are not shown at all.
HEADER_SKEW = timedelta(days=366)
#: Largest timezone offset accepted in a ``Date:`` header (real ones stay within +14:00 / -12:00).
MAX_OFFSET = timedelta(hours=24)
#: Longest ``Date:`` text looked at: a real one is ~40 characters; megabytes of garbage must stay cheap.
MAX_DATE_TEXT = 256


def naive_utc(value):
    """``value`` as a naive UTC datetime; None for anything that is not a datetime or cannot be converted."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):  # year 1 at +01:00, year 9999 at -01:00
        return None


def parse_header_date(text):
    """A ``Date:`` header's text to naive UTC, or None when unparseable; never raises.

    Unlike ``email.utils.parsedate_to_datetime``, an impossible timezone offset (``-9999``) is
    ignored (the time is taken as UTC) instead of making the whole date unusable, and a date
    that overflows when converted to UTC gives None instead of an exception.
    """
    if not isinstance(text, str):
        return None
    text = " ".join(text[:MAX_DATE_TEXT].split())
    if not text:
        return None
    try:
        parts = email.utils.parsedate_tz(text)
    except Exception:  # noqa: BLE001 - the stdlib has raised IndexError/TypeError on odd input
        return None
    if not parts:
        return None
    try:
        value = datetime(*parts[:6])
    except (TypeError, ValueError, OverflowError):  # day 32, hour 25, year 0...
        return None
    offset = parts[9]
    if offset:
        offset = timedelta(seconds=offset)
        if abs(offset) < MAX_OFFSET:
            try:
                value -= offset
            except OverflowError:
                return None
    return value


def clamp_header_date(header_date, now):
    """The sender's date to display: naive UTC within [1970, now + 1 year], else None (absurd).

    Absurd dates are dropped rather than clamped to a bound: showing "1970-01-01" would be a
    made-up date, while None lets the view fall back to the receive date.
    """
    value = naive_utc(header_date)
    now = naive_utc(now) or _utcnow()
    if value is None or value < MIN_HEADER or value > _add(now, HEADER_SKEW):
        return None
    return value


def receive_date(internal_date, header_date, now):
    """The date that orders the inbox and starts deadlines; always within [1990-01-01, now + 1 day].

    INTERNALDATE (set by the receiving server) first, then the sender's date, then ``now``:
    the first one that is sane wins. When none is sane, the first one present is clamped
    into the range, so the order the server gave is kept as well as possible.
    """
    now = naive_utc(now) or _utcnow()
    upper = _add(now, RECEIVE_SKEW)
    candidates = [value for value in (naive_utc(internal_date), naive_utc(header_date)) if value is not None]
    for value in candidates:
        if MIN_RECEIVE <= value <= upper:
            return value
    if candidates:
        return min(max(candidates[0], MIN_RECEIVE), upper)
    return min(max(now, MIN_RECEIVE), upper)


def safe_add(value, delta):
    """``value + delta`` saturating at ``datetime.max`` / ``datetime.min`` instead of raising OverflowError."""
    return _add(value, delta)


def _add(value, delta):
    try:
        return value + delta
    except OverflowError:
        return datetime.max if delta > timedelta(0) else datetime.min


def _utcnow():
    return datetime.now(UTC).replace(tzinfo=None)
