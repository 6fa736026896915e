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


def test_guard_looks_above_the_marker():
    assert collision.guard_floor(8) == 8


def test_guard_looks_above_what_was_confirmed():
    assert collision.guard_floor(8, confirmed_up_to=12) == 12
    assert collision.guard_floor(8, confirmed_up_to=3) == 8


def test_guard_without_marker_checks_nothing():
    assert collision.guard_floor(0) is None
    assert collision.guard_floor(None, confirmed_up_to=12) is None
