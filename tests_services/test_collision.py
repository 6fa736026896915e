"""services/collision.py: freshness of « X consulte cette conversation », excerpts, the send guard's arithmetic."""

from datetime import datetime, timedelta

import pytest

from comunik_mail.services import collision

NOW = datetime(2026, 3, 4, 10, 0, 0)


@pytest.mark.parametrize(
    "age, fresh",
    [(0, True), (29, True), (59, True), (60, False), (61, False), (3600, False), (-30, True), (-600, False)],
)
def test_is_fresh_within_ttl_only(age, fresh):
    assert collision.is_fresh(NOW - timedelta(seconds=age), NOW) is fresh


def test_is_fresh_without_date():
    assert collision.is_fresh(None, NOW) is False


@pytest.mark.parametrize("age, left", [(0, 60), (10, 50), (59.5, 0), (60, 0), (500, 0), (-100, 60)])
def test_expires_in_counts_down_and_is_bounded(age, left):
    assert collision.expires_in(NOW - timedelta(seconds=age), NOW) == left


def test_stale_before():
    assert collision.stale_before(NOW) == datetime(2026, 3, 4, 9, 59, 0)


@pytest.mark.parametrize(
    "activities, expected",
    [
        ([], "none"),
        (["viewing"], "viewing"),
        (["viewing", "replying"], "replying"),
        (["replying", "viewing", "viewing"], "replying"),
        (["none", "bogus"], "none"),
    ],
)
def test_effective_activity(activities, expected):
    assert collision.effective_activity(activities) == expected


def test_excerpt_short_text_on_one_line():
    assert collision.excerpt("Bonjour,\n\n  merci   pour\tvotre retour ") == "Bonjour, merci pour votre retour"


def test_excerpt_cuts_at_a_word():
    text = "Bonjour, " + "je relance ma demande de devis " * 20
    result = collision.excerpt(text, length=50)
    assert result.endswith("…")
    assert len(result) <= 51
    assert result[:-1] == text[: len(result) - 1]
    assert not result[:-1].endswith(" ")


def test_excerpt_of_nothing():
    assert collision.excerpt(None) == ""
    assert collision.excerpt("   ") == ""


def test_unconfirmed_lists_newer_than_marker():
    assert collision.unconfirmed([5, 12, 9, 3], seen_id=8) == [9, 12]


def test_unconfirmed_after_confirmation():
    assert collision.unconfirmed([9, 12], seen_id=8, confirmed_up_to=12) == []
    assert collision.unconfirmed([9, 12, 14], seen_id=8, confirmed_up_to=12) == [14]


def test_unconfirmed_without_marker_checks_nothing():
    assert collision.unconfirmed([9, 12], seen_id=0) == []
    assert collision.unconfirmed([9, 12], seen_id=None) == []
