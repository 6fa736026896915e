"""services/assignment.py: round robin, balanced, capacity weight, sticky customers, backlog order."""

import random
from collections import Counter
from datetime import datetime, timedelta

from comunik_mail.services import assignment
from comunik_mail.services.assignment import BALANCED, ROUND_ROBIN, STICKY, Member, Waiting

T0 = datetime(2026, 3, 4, 9, 0)


def waiting(count, start=1, priority="0", partner=None):
    return [Waiting(start + i, T0 + timedelta(minutes=i), priority, partner) for i in range(count)]


def test_weight_urgent_counts_twice():
    assert assignment.weight("0") == 1
    assert assignment.weight("1") == 1
    assert assignment.weight("2") == 2
    assert assignment.weight(None) == 1


def test_capacity_room():
    assert Member(1, load=9, capacity=10).has_room(1)
    assert not Member(1, load=9, capacity=10).has_room(2)
    assert Member(1, load=500, capacity=0).has_room(2), "0 is unlimited"


def test_round_robin_cycles_after_the_last_served():
    members = [Member(30), Member(10), Member(20)]
    assert assignment.choose(ROUND_ROBIN, members).user_id == 10
    assert assignment.choose(ROUND_ROBIN, members, last_user_id=10).user_id == 20
    assert assignment.choose(ROUND_ROBIN, members, last_user_id=30).user_id == 10
    # The pointer may be a member who left: the next one by id still follows.
    assert assignment.choose(ROUND_ROBIN, members, last_user_id=25).user_id == 30


def test_round_robin_skips_the_full():
    members = [Member(1, load=2, capacity=2), Member(2), Member(3, load=5, capacity=5)]
    assert assignment.choose(ROUND_ROBIN, members, last_user_id=3).user_id == 2


def test_balanced_takes_the_lightest_and_rotates_ties():
    members = [Member(1, load=4), Member(2, load=1), Member(3, load=1)]
    assert assignment.choose(BALANCED, members).user_id == 2
    assert assignment.choose(BALANCED, members, last_user_id=2).user_id == 3
    choice = assignment.choose(BALANCED, members, amount=2, last_user_id=3)
    assert (choice.user_id, choice.reason, choice.load) == (2, BALANCED, 3)


def test_everyone_full_or_manual_gives_nobody():
    full = [Member(1, load=3, capacity=3), Member(2, load=2, capacity=3)]
    assert assignment.choose(ROUND_ROBIN, full, amount=2) is None, "an urgent email needs two places"
    assert assignment.choose(BALANCED, full, amount=1).user_id == 2
    assert assignment.choose(assignment.MANUAL, [Member(1)]) is None
    assert assignment.choose(ROUND_ROBIN, []) is None


def test_sticky_wins_when_eligible_and_not_full():
    members = [Member(1), Member(2, load=1, capacity=2)]
    choice = assignment.choose(ROUND_ROBIN, members, last_user_id=2, sticky_user_id=2)
    assert (choice.user_id, choice.reason) == (2, STICKY)
    full = [Member(1), Member(2, load=2, capacity=2)]
    assert assignment.choose(ROUND_ROBIN, full, last_user_id=2, sticky_user_id=2).reason == ROUND_ROBIN
    assert assignment.choose(BALANCED, members, sticky_user_id=99).user_id == 1, "not eligible: ignored"


def test_backlog_longest_waiting_first():
    items = [
        Waiting(5, T0 + timedelta(hours=2)),
        Waiting(9, None),
        Waiting(3, T0),
        Waiting(4, T0),
    ]
    assert [w.id for w in assignment.backlog_order(items)] == [3, 4, 5, 9]


def test_plan_stops_at_the_first_nobody_can_take():
    members = [Member(1, capacity=2), Member(2, capacity=1)]
    items = [*waiting(2), Waiting(3, T0 + timedelta(minutes=2), "2"), Waiting(4, T0 + timedelta(minutes=3))]
    plan = assignment.plan_backlog(ROUND_ROBIN, members, items)
    # 1 -> user 1, 2 -> user 2 (full), 3 is urgent (2 places): user 1 has one left, so it waits, and 4 too.
    assert [(cid, c.user_id) for cid, c in plan.assignments] == [(1, 1), (2, 2)]
    assert plan.last_user_id == 2


def test_plan_round_robin_fair_over_1000():
    members = [Member(uid) for uid in (11, 12, 13, 14, 15)]
    plan = assignment.plan_backlog(ROUND_ROBIN, members, waiting(1000))
    counts = Counter(choice.user_id for _cid, choice in plan.assignments)
    assert len(plan.assignments) == 1000
    assert max(counts.values()) - min(counts.values()) <= 1


def test_plan_balanced_never_exceeds_a_cap():
    rng = random.Random(7)
    members = [Member(1, load=3, capacity=10), Member(2, capacity=4), Member(3, load=1, capacity=6)]
    items = [Waiting(i, T0 + timedelta(seconds=i), rng.choice("0012")) for i in range(1, 200)]
    plan = assignment.plan_backlog(BALANCED, members, items)
    loads = {m.user_id: m.load for m in members}
    for cid, choice in plan.assignments:
        item = items[cid - 1]
        loads[choice.user_id] += assignment.weight(item.priority)
        assert choice.load == loads[choice.user_id]
    assert all(loads[m.user_id] <= m.capacity for m in members)
    assert sum(loads.values()) >= 20 - 1, "the places are used (an urgent one may be left for a single place)"


def test_plan_sticky_inside_one_pass():
    members = [Member(1), Member(2), Member(3)]
    items = [
        Waiting(1, T0, partner_id=7),
        Waiting(2, T0 + timedelta(1), partner_id=8),
        Waiting(3, T0 + timedelta(2), partner_id=7),
    ]
    plan = assignment.plan_backlog(ROUND_ROBIN, members, items, sticky={8: 3})
    assert [(cid, c.user_id, c.reason) for cid, c in plan.assignments] == [
        (1, 1, ROUND_ROBIN),
        (2, 3, STICKY),
        (3, 1, STICKY),
    ]
    assert plan.last_user_id == 1, "sticky assignments leave the round robin where it was"
