"""services/snooze.py: quick choices and custom times in the user's timezone, sanity of the end, paused hours."""

from datetime import date, datetime, timedelta

import pytest

from comunik_mail.services import snooze

# Thursday 3 December 2026, 13:00 UTC = 14:00 in Paris (CET, UTC+1).
NOW = datetime(2026, 12, 3, 13, 0)


def test_tomorrow_9_is_9_on_the_users_wall_clock():
    assert snooze.preset("tomorrow", NOW, "Europe/Paris") == datetime(2026, 12, 4, 8, 0)
    assert snooze.preset("tomorrow", NOW, "America/New_York") == datetime(2026, 12, 4, 14, 0)
    assert snooze.preset("tomorrow", NOW, False) == datetime(2026, 12, 4, 9, 0), "no timezone: UTC"
    assert snooze.preset("tomorrow", NOW, "Mars/Olympus") == datetime(2026, 12, 4, 9, 0), "unknown: UTC"


def test_tomorrow_follows_the_users_date_not_utcs():
    # 23:30 UTC on the 3rd is already the 4th in Paris: « demain » is the 5th.
    late = datetime(2026, 12, 3, 23, 30)
    assert snooze.preset("tomorrow", late, "Europe/Paris") == datetime(2026, 12, 5, 8, 0)
    assert snooze.preset("tomorrow", late, "UTC") == datetime(2026, 12, 4, 9, 0)


def test_next_monday_is_never_today():
    assert snooze.preset("next_monday", NOW, "Europe/Paris") == datetime(2026, 12, 7, 8, 0)
    monday = datetime(2026, 12, 7, 7, 0)  # Monday 8:00 in Paris
    assert snooze.preset("next_monday", monday, "Europe/Paris") == datetime(2026, 12, 14, 8, 0)
    sunday = datetime(2026, 12, 6, 20, 0)
    assert snooze.preset("next_monday", sunday, "Europe/Paris") == datetime(2026, 12, 7, 8, 0)
    with pytest.raises(ValueError):
        snooze.preset("someday", NOW, "Europe/Paris")


def test_local_to_utc_across_daylight_saving_time():
    assert snooze.local_to_utc(date(2026, 7, 1), 9.0, "Europe/Paris") == datetime(2026, 7, 1, 7, 0)  # CEST
    assert snooze.local_to_utc(date(2026, 1, 15), 17.5, "Europe/Paris") == datetime(2026, 1, 15, 16, 30)
    # 29 March 2026, 2:30 does not exist in Paris (clocks go from 2:00 to 3:00): read with the winter offset.
    assert snooze.local_to_utc(date(2026, 3, 29), 2.5, "Europe/Paris") == datetime(2026, 3, 29, 1, 30)
    # 25 October 2026, 2:30 happens twice: the first one (summer time).
    assert snooze.local_to_utc(date(2026, 10, 25), 2.5, "Europe/Paris") == datetime(2026, 10, 25, 0, 30)
    for hour in (-1, 24, 99):
        with pytest.raises(ValueError):
            snooze.local_to_utc(date(2026, 1, 15), hour, "Europe/Paris")


def test_check_until():
    assert snooze.check_until(NOW + timedelta(minutes=1), NOW) is None
    assert snooze.check_until(NOW + timedelta(days=366), NOW) is None
    assert snooze.check_until(NOW, NOW) == snooze.PAST
    assert snooze.check_until(NOW - timedelta(days=1), NOW) == snooze.PAST
    assert snooze.check_until(NOW + timedelta(days=367), NOW) == snooze.TOO_FAR
    assert snooze.check_until(datetime(9999, 12, 31), NOW) == snooze.TOO_FAR


def test_paused_hours_count_only_when_the_clock_was_still_running():
    start, deadline = datetime(2026, 12, 3, 10, 0), datetime(2026, 12, 3, 14, 0)
    assert snooze.paused_hours(start, start + timedelta(hours=5), deadline) == 5.0
    assert snooze.paused_hours(deadline, deadline + timedelta(hours=5), deadline) == 0.0, "already late"
    assert snooze.paused_hours(start, start, deadline) == 0.0
    assert snooze.paused_hours(start, start + timedelta(hours=5), False) == 0.0, "no response delay"
    assert snooze.paused_hours(False, start, deadline) == 0.0
