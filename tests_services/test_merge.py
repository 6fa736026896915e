"""services/merge.py: target choice, customer warning, the 30 days of unmerge, chains of merges."""

from datetime import datetime, timedelta

from comunik_mail.services import merge
from comunik_mail.services.merge import Candidate

NOW = datetime(2026, 3, 4, 10, 0)


def test_default_target_is_the_oldest():
    candidates = [
        Candidate(3, datetime(2026, 3, 2), "partner:1"),
        Candidate(1, datetime(2026, 3, 3), "partner:1"),
        Candidate(2, datetime(2026, 3, 1), "partner:1"),
    ]
    assert merge.default_target(candidates) == 2


def test_default_target_ties_and_undated():
    same = datetime(2026, 3, 1)
    assert merge.default_target([Candidate(5, same, ""), Candidate(4, same, "")]) == 4
    assert merge.default_target([Candidate(1, None, ""), Candidate(9, same, "")]) == 9
    assert merge.default_target([Candidate(7, None, ""), Candidate(6, None, "")]) == 6
    assert merge.default_target([]) is None


def test_customers_differ():
    key = merge.customer_key
    assert not merge.customers_differ([Candidate(1, None, key(4, "a@x")), Candidate(2, None, key(4, "b@x"))])
    assert merge.customers_differ([Candidate(1, None, key(4, "")), Candidate(2, None, key(5, ""))])
    assert merge.customers_differ([Candidate(1, None, key(False, "a@x")), Candidate(2, None, key(False, "b@x"))])
    assert not merge.customers_differ([Candidate(1, None, key(False, "a@x")), Candidate(2, None, key(False, ""))])
    assert key(False, "") == ""


def test_unmerge_for_30_days():
    done = NOW - timedelta(days=30)
    assert merge.can_unmerge(done, NOW)
    assert not merge.can_unmerge(done - timedelta(seconds=1), NOW)
    assert not merge.can_unmerge(NOW, NOW, unmerged=True)
    assert not merge.can_unmerge(None, NOW)


def test_merged_dates():
    assert merge.merged_dates([datetime(2026, 3, 2), None, datetime(2026, 3, 1)]) == (
        datetime(2026, 3, 1),
        datetime(2026, 3, 2),
    )
    assert merge.merged_dates([None]) == (None, None)


def test_restored_first_response():
    merged = datetime(2026, 3, 2)
    assert merge.restored_first_response(datetime(2026, 3, 1), datetime(2026, 2, 1), merged) == datetime(2026, 3, 1)
    assert merge.restored_first_response(None, datetime(2026, 2, 1), merged) is None  # came from a merged-away one
    assert merge.restored_first_response(None, datetime(2026, 3, 3), merged) == datetime(2026, 3, 3)
    assert merge.restored_first_response(None, None, merged) is None


def test_final_targets_follow_chains():
    assert merge.final_targets({1: 2, 2: 3, 4: 3}) == {1: 3, 2: 3, 4: 3}
    assert merge.final_targets({}) == {}
    assert merge.final_targets({1: 2, 2: 1}) == {1: 1, 2: 2}  # a loop stops where it loops
