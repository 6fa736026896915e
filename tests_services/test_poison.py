"""Every poison email goes through parsing, dates and dedupe keys: no exception, bounded output, bounded time."""

import time
from datetime import datetime, timedelta

import pytest

from comunik_mail.services import dates, dedupe, limits, mime, thread_plan
from comunik_support import poison

NOW = datetime(2026, 3, 4, 10, 0)
INTERNAL = datetime(2026, 3, 4, 9, 0)
KINDS = [kind for kind, _description, _factory in poison.POISON_EMAILS]


def test_corpus_is_wide_and_well_formed():
    assert len(set(KINDS)) == len(KINDS) >= 30
    assert poison.HEAVY <= set(KINDS)
    for _kind, description, factory in poison.POISON_EMAILS:
        assert description and callable(factory)
    assert b"Message-ID: " + poison.DUPLICATE_ID.encode() in poison.normal_email(0)


@pytest.mark.parametrize("kind, description, factory", poison.POISON_EMAILS, ids=KINDS)
def test_poison_is_harmless(kind, description, factory):
    raw = factory()
    assert isinstance(raw, bytes)
    start = time.monotonic()
    parsed = mime.parse_message(raw, fallback_date=INTERNAL, now=NOW)
    key = dedupe.dedupe_key(parsed.message_id, raw)
    digest = dedupe.content_digest(raw)
    receive = dates.receive_date(INTERNAL, parsed.header_date, NOW)
    shown = dates.clamp_header_date(parsed.header_date, NOW)
    plan = thread_plan.plan_threads([thread_plan.ThreadInput(key, parsed.in_reply_to, parsed.references, receive)], {})
    elapsed = time.monotonic() - start
    assert elapsed < 5, f"{kind} took {elapsed:.1f}s"

    assert len(parsed.attachments) <= limits.MAX_ATTACHMENTS
    assert 0 < len(key) <= dedupe.MAX_KEY and "\x00" not in key and not any(c.isspace() for c in key)
    assert len(digest) == 64
    assert dates.MIN_RECEIVE <= receive <= NOW + timedelta(days=1)
    assert shown is None or datetime(1970, 1, 1) <= shown <= NOW + timedelta(days=366)
    assert parsed.date is None or datetime(1970, 1, 1) <= parsed.date <= NOW + timedelta(days=366)
    assert plan.placements[0].kind == thread_plan.NEW
    for text in (parsed.subject, parsed.body_text, parsed.body_html, parsed.from_name, parsed.message_id):
        assert "\x00" not in text
    if len(raw) > limits.MAX_MESSAGE_BYTES:
        assert parsed.warnings == [limits.TOO_LARGE] and not parsed.attachments


@pytest.mark.parametrize(
    "kind, check",
    [
        ("date-year-9999", lambda p: p.date == INTERNAL and "bad-date" in p.warnings),
        ("date-tz-9999", lambda p: p.date == datetime(2025, 3, 4, 10, 15)),
        ("id-folded-4000", lambda p: len(p.message_id) > 3900),  # the key, not the id, is bounded
        ("id-nul", lambda p: p.message_id == "<poison@poison.example>"),
        ("parts-20000", lambda p: limits.TOO_MANY_PARTS in p.warnings),
        ("attachments-2000", lambda p: len(p.attachments) == limits.MAX_ATTACHMENTS),
        ("size-60mb", lambda p: p.warnings == [limits.TOO_LARGE] and p.subject == "Poison"),
        ("headers-8bit", lambda p: p.subject == "Réunion été"),
    ],
)
def test_poison_specifics(kind, check):
    factory = dict((k, f) for k, _d, f in poison.POISON_EMAILS)[kind]
    assert check(mime.parse_message(factory(), fallback_date=INTERNAL, now=NOW))


def test_duplicate_with_different_content_is_a_variant():
    original, other = (
        poison.normal_email(0),
        dict((k, f) for k, _d, f in poison.POISON_EMAILS)["id-duplicate-different-content"](),
    )
    keys = [dedupe.dedupe_key(mime.parse_message(raw).message_id, raw) for raw in (original, other)]
    assert keys[0] == keys[1] == poison.DUPLICATE_ID
    items = [(key, dedupe.content_digest(raw)) for key, raw in zip(keys, (original, other), strict=True)]
    decisions = dedupe.classify_duplicates(items, {})
    assert [d.action for d in decisions] == [dedupe.NEW, dedupe.VARIANT]
