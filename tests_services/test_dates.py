"""services/dates.py and the dates of mime.parse_message: absurd dates never raise nor leak out."""

from datetime import datetime, timedelta, timezone

import pytest

from comunik_mail.services import dates, mime

NOW = datetime(2026, 3, 4, 10, 0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Tue, 04 Mar 2025 10:15:00 +0100", datetime(2025, 3, 4, 9, 15)),
        ("Fri, 31 Dec 9999 23:59:59 +0000", datetime(9999, 12, 31, 23, 59, 59)),
        ("Fri, 31 Dec 9999 23:59:59 -0100", None),  # overflows once converted to UTC
        ("Mon, 01 Jan 0001 00:00:00 +0100", datetime(2000, 12, 31, 23, 0)),  # two-digit year rule: 2001
        ("Mon, 01 Jan 2025 10:00:00 -9999", datetime(2025, 1, 1, 10, 0)),  # impossible offset ignored
        ("Mon, 32 Jan 2025 00:00:00 +0000", None),
        ("demain matin", None),
        ("", None),
        (None, None),
        ("Mon, 01 Jan 2025 10:00:00 +0000" + " x" * 1_000_000, datetime(2025, 1, 1, 10, 0)),
    ],
)
def test_parse_header_date_never_raises(text, expected):
    assert dates.parse_header_date(text) == expected


def test_receive_date_prefers_internaldate_then_header_then_now():
    internal, header = datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 1, 8, 0)
    assert dates.receive_date(internal, header, NOW) == internal
    assert dates.receive_date(None, header, NOW) == header
    assert dates.receive_date(None, None, NOW) == NOW
    aware = datetime(2026, 3, 4, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert dates.receive_date(aware, None, NOW) == datetime(2026, 3, 4, 9, 0)


def test_receive_date_is_always_in_range():
    upper = NOW + dates.RECEIVE_SKEW
    assert dates.receive_date(datetime(9999, 12, 31), None, NOW) == upper
    assert dates.receive_date(datetime(1, 1, 1), None, NOW) == dates.MIN_RECEIVE
    # An absurd INTERNALDATE gives way to a sane sender date.
    assert dates.receive_date(datetime(1980, 1, 1), datetime(2026, 2, 1), NOW) == datetime(2026, 2, 1)
    assert dates.receive_date(datetime(1980, 1, 1), datetime(9999, 1, 1), NOW) == dates.MIN_RECEIVE
    assert dates.receive_date("garbage", 42, NOW) == NOW
    # Deadlines computed from it never overflow.
    assert dates.receive_date(datetime(9999, 12, 31), None, NOW) + timedelta(days=3650)


def test_clamp_header_date():
    assert dates.clamp_header_date(datetime(2025, 1, 1), NOW) == datetime(2025, 1, 1)
    assert dates.clamp_header_date(NOW + timedelta(days=300), NOW) == NOW + timedelta(days=300)
    assert dates.clamp_header_date(NOW + timedelta(days=400), NOW) is None
    assert dates.clamp_header_date(datetime(9999, 12, 31), NOW) is None
    assert dates.clamp_header_date(datetime(1900, 1, 1), NOW) is None
    assert dates.clamp_header_date(None, NOW) is None


def test_safe_add_saturates():
    assert dates.safe_add(datetime(9999, 12, 31), timedelta(days=2)) == datetime.max
    assert dates.safe_add(datetime(1, 1, 1), -timedelta(days=2)) == datetime.min
    assert dates.safe_add(NOW, timedelta(days=1)) == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    "header",
    [
        "Fri, 31 Dec 9999 23:59:59 -0100",
        "Fri, 31 Dec 9999 23:59:59 +0000",
        "Mon, 01 Jan 0000 00:00:00 +0000",
        "Mon, 01 Jan 1900 00:00:00 +0000",
        "Mon, 01 Jan 2025 10:00:00 -9999",
        "Mon, 01 Jan 2400 10:00:00 +0000",
        "\x00\x01 garbage \xff",
        "=?utf-8?b?garbage?=",
    ],
)
def test_parse_message_exposes_header_date_and_keeps_date_sane(header):
    raw = f"From: a@b.fr\r\nSubject: x\r\nDate: {header}\r\n\r\nbody\r\n".encode("utf-8", "surrogateescape")
    fallback = datetime(2026, 3, 4, 9, 0)
    parsed = mime.parse_message(raw, fallback_date=fallback, now=NOW)
    assert parsed.date is not None
    assert datetime(1970, 1, 1) <= parsed.date <= NOW + timedelta(days=366)
    if parsed.date == fallback:
        assert "no-date" in parsed.warnings and "bad-date" in parsed.warnings
    receive = dates.receive_date(fallback, parsed.header_date, NOW)
    assert receive == fallback


def test_parse_message_header_date_is_the_senders():
    raw = b"Subject: x\r\nDate: Fri, 31 Dec 9999 23:59:59 +0000\r\n\r\nbody\r\n"
    parsed = mime.parse_message(raw, fallback_date=NOW, now=NOW)
    assert parsed.header_date == datetime(9999, 12, 31, 23, 59, 59)
    assert parsed.date == NOW and "bad-date" in parsed.warnings
    missing = mime.parse_message(b"Subject: x\r\n\r\nbody\r\n", fallback_date=NOW, now=NOW)
    assert missing.header_date is None and missing.warnings == ["no-date"]
