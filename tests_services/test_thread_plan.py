"""services/thread_plan.py: one conversation per thread, closest parent first, latest date per conversation."""

from datetime import datetime, timedelta

from comunik_mail.services import dedupe, thread_plan
from comunik_mail.services.thread_plan import BATCH, EXISTING, NEW, ThreadInput

T0 = datetime(2026, 3, 4, 9, 0)


def msg(key, in_reply_to=None, references=(), minutes=0):
    return ThreadInput(key, in_reply_to, list(references), T0 + timedelta(minutes=minutes))


def kinds(plan):
    return [placement.kind for placement in plan.placements]


def test_new_reply_and_existing():
    plan = thread_plan.plan_threads(
        [
            msg("<a>"),
            msg("<b>", "<a>", ["<a>"], 5),
            msg("<c>", "<old>", ["<old>"], 6),
            msg("<d>", None, ["<old>", "<c>"], 7),
        ],
        {"<old>": 42},
    )
    assert kinds(plan) == [NEW, BATCH, EXISTING, EXISTING]
    assert plan.placements[1].root == 0
    assert plan.roots == [0]
    assert plan.new_dates == {0: (T0, T0 + timedelta(minutes=5))}
    assert plan.existing_dates == {42: T0 + timedelta(minutes=7)}  # the last email, not the first one
    assert plan.conversation_ids({0: 7}) == [7, 7, 42, 42]


def test_referenced_keys_are_normalized():
    long_id = "<" + "z" * 300 + "@b.fr>"
    messages = [msg("<a>", " <p@\r\n b.fr>", ["<r1>", long_id]), msg("<b>", None, ["<r1>"])]
    assert thread_plan.referenced_keys(messages) == sorted(["<p@b.fr>", "<r1>", dedupe.thread_key(long_id)])


def test_closest_parent_wins():
    # In-Reply-To first, then References from the last one.
    plan = thread_plan.plan_threads([msg("<x>", "<p2>", ["<p1>", "<p3>"])], {"<p1>": 1, "<p2>": 2, "<p3>": 3})
    assert plan.placements[0].conversation_id == 2
    plan = thread_plan.plan_threads([msg("<x>", None, ["<p1>", "<p3>"])], {"<p1>": 1, "<p3>": 3})
    assert plan.placements[0].conversation_id == 3
    plan = thread_plan.plan_threads([msg("<x>", "<unknown>", ["<p1>", "<unknown2>"])], {"<p1>": 1})
    assert plan.placements[0].conversation_id == 1


def test_reply_before_its_original_still_joins_it():
    plan = thread_plan.plan_threads([msg("<reply>", "<orig>", minutes=0), msg("<orig>", minutes=3)], {})
    assert kinds(plan) == [BATCH, NEW]
    assert plan.roots == [1] and plan.placements[0].root == 1
    assert plan.new_dates == {1: (T0, T0 + timedelta(minutes=3))}


def test_reference_loop_starts_one_conversation():
    plan = thread_plan.plan_threads([msg("<a>", "<b>"), msg("<b>", "<c>", minutes=1), msg("<c>", "<a>", minutes=2)], {})
    assert plan.roots == [0]
    assert kinds(plan) == [NEW, BATCH, BATCH]
    self_reply = thread_plan.plan_threads([msg("<a>", "<a>", ["<a>"])], {})
    assert kinds(self_reply) == [NEW]


def test_chain_in_batch_with_existing_root():
    messages = [msg(f"<m{i}>", f"<m{i - 1}>" if i else "<root>", minutes=i) for i in range(50)]
    plan = thread_plan.plan_threads(messages, {"<root>": 9})
    assert {p.conversation_id for p in plan.placements} == {9}
    assert plan.existing_dates == {9: T0 + timedelta(minutes=49)}
    assert plan.roots == []


def test_long_parent_ids_find_their_digest_key():
    long_id = "<" + "y" * 3000 + "@b.fr>"
    key = dedupe.thread_key(long_id)
    folded = long_id[:1000] + "\r\n " + long_id[1000:]
    plan = thread_plan.plan_threads([msg(key), msg("<r>", folded, [folded], 1)], {})
    assert kinds(plan) == [NEW, BATCH]


def test_empty_batch_and_unreferenced():
    assert thread_plan.plan_threads([], {}).placements == []
    plan = thread_plan.plan_threads([msg("<a>"), msg("<b>", minutes=1)], {"<z>": 1})
    assert kinds(plan) == [NEW, NEW] and plan.roots == [0, 1]


def test_long_chain_is_linear():
    import time

    messages = [msg(f"<m{i}>", f"<m{i - 1}>" if i else None, minutes=i) for i in range(20000)]
    start = time.monotonic()
    plan = thread_plan.plan_threads(list(reversed(messages)), {})
    assert time.monotonic() - start < 2
    assert len(plan.roots) == 1
