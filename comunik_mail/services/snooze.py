"""Snooze (« Mettre en attente jusqu'au… »): when a snooze ends, in the user's timezone, and whether it is sane.

The user picks a wall-clock time (« Demain 9h », « Lundi prochain 9h », or a date and an hour) in their own
timezone (``res.users.tz``); it is stored as naive UTC, like every Odoo datetime. Every datetime in and out of
this module is naive UTC except the local ones named so.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Quick choices of the wizard: the next day / the next Monday (never today), at this local hour.
PRESET_HOUR = 9.0
#: A snooze ends at most this far ahead: anything later is a typo (year 2062), not a plan.
MAX_SNOOZE = timedelta(days=366)
#: What ``check_until`` answers.
PAST, TOO_FAR = "past", "too_far"


def zone(tz_name):
    """The user's timezone, UTC when unset or unknown."""
    try:
        return ZoneInfo(tz_name) if tz_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_to_utc(day, hour, tz_name):
    """Naive UTC of ``day`` at ``hour`` (float, 9.5 = 9:30) on the wall clock of ``tz_name``.

    A wall time skipped by a DST change (2:30 the night clocks go forward) is read with the offset
    before the change, as clocks do; a repeated one (autumn) is its first occurrence.
    """
    if not isinstance(day, date) or not 0 <= hour < 24:
        raise ValueError(f"invalid local time {day!r} {hour!r}")
    minutes = round(hour * 60)
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone(tz_name))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_today(now, tz_name):
    """The user's date at ``now``."""
    return now.replace(tzinfo=UTC).astimezone(zone(tz_name)).date()


def preset(choice, now, tz_name, hour=PRESET_HOUR):
    """End of a quick choice: ``"tomorrow"`` (next day) or ``"next_monday"`` (next Monday, a week ahead on a
    Monday), at ``hour`` local time."""
    today = local_today(now, tz_name)
    if choice == "tomorrow":
        day = today + timedelta(days=1)
    elif choice == "next_monday":
        day = today + timedelta(days=(7 - today.weekday()) or 7)
    else:
        raise ValueError(f"unknown snooze choice {choice!r}")
    return local_to_utc(day, hour, tz_name)


def check_until(until, now):
    """None when ``until`` can end a snooze started at ``now``, else PAST or TOO_FAR."""
    if until <= now:
        return PAST
    if until - now > MAX_SNOOZE:
        return TOO_FAR
    return None


def paused_hours(start, end, deadline):
    """Hours (without working-hours calendar) a snooze from ``start`` to ``end`` adds to the response delay:
    its whole length when it started before the deadline (the clock stopped with time left), nothing when the
    conversation was already late (snoozing never rescues a missed deadline)."""
    if not (start and end and deadline) or start >= deadline or end <= start:
        return 0.0
    return (end - start).total_seconds() / 3600
