"""services/dedupe.py: bounded keys, re-fetches skipped, reused Message-IDs kept apart."""

from comunik_mail.services import dedupe, mime

RAW = b"From: a@b.fr\r\nSubject: Devis\r\nMessage-ID: <devis-1@b.fr>\r\n\r\nBonjour\r\n"


def test_normalize_strips_folding_and_controls():
    assert dedupe.normalize_message_id(" <abc@\r\n\tb.fr>\x00 ") == "<abc@b.fr>"
    assert dedupe.normalize_message_id("abc@b.fr") == "<abc@b.fr>"
    assert dedupe.normalize_message_id("<<abc@b.fr>>") == "<abc@b.fr>"
    assert dedupe.normalize_message_id("") == dedupe.normalize_message_id(None) == ""
    assert dedupe.normalize_message_id("<>") == ""


def test_long_id_becomes_a_stable_digest_that_replies_find():
    long_id = "<" + "x" * 4000 + "@b.fr>"
    folded = "<" + "\r\n ".join("x" * 100 for _ in range(40)) + "@b.fr>"
    key = dedupe.dedupe_key(long_id, RAW)
    assert len(key) <= dedupe.MAX_KEY and key.endswith("@comunik.invalid>")
    assert dedupe.dedupe_key(folded, b"other bytes") == key  # the id decides, not the bytes
    assert dedupe.thread_key(long_id) == key  # a reply's References maps to the same key
    assert dedupe.dedupe_key("<" + "x" * 200 + "@b.fr>", RAW) == "<" + "x" * 200 + "@b.fr>"


def test_missing_id_keeps_the_legacy_digest():
    raw = b"Subject: no id\r\n\r\nbody"
    assert dedupe.dedupe_key("", raw) == dedupe.dedupe_key(None, raw) == mime.message_digest(raw)
    parsed = mime.parse_message(raw)
    assert dedupe.dedupe_key(parsed.message_id, raw) == mime.message_digest(raw)
    assert dedupe.thread_key("") is None


def test_non_ascii_id_is_kept():
    assert dedupe.dedupe_key("<é-1@b.fr>", RAW) == "<é-1@b.fr>"


def test_content_digest_ignores_transport_noise():
    refetched = b"Received: from mx by mx2\r\nX-Migrated: yes\r\n" + RAW.replace(b"\r\n", b"\n")
    assert dedupe.content_digest(refetched) == dedupe.content_digest(RAW)
    other = RAW.replace(b"Bonjour", b"Bonsoir")
    assert dedupe.content_digest(other) != dedupe.content_digest(RAW)
    assert dedupe.content_digest(RAW.replace(b"Devis", b"Facture")) != dedupe.content_digest(RAW)
    assert len(dedupe.content_digest(b"")) == 64


def test_classify_duplicates():
    same, other = dedupe.content_digest(RAW), dedupe.content_digest(RAW + b"PS")
    key = "<devis-1@b.fr>"
    decisions = dedupe.classify_duplicates([(key, same), (key, other), ("<new@b.fr>", same)], {key: same})
    assert [d.action for d in decisions] == [dedupe.DUPLICATE, dedupe.VARIANT, dedupe.NEW]
    assert decisions[1].key == dedupe.variant_key(other) and decisions[1].original_key == key
    assert len(decisions[1].key) <= dedupe.MAX_KEY
    assert decisions[2].key == "<new@b.fr>"


def test_classify_within_batch_and_unknown_digests():
    a, b = "d" * 64, "e" * 64
    decisions = dedupe.classify_duplicates([("<k>", a), ("<k>", a), ("<k>", b), ("<k>", b)], {})
    assert [d.action for d in decisions] == [dedupe.NEW, dedupe.DUPLICATE, dedupe.VARIANT, dedupe.DUPLICATE]
    # Stored before digests existed: cannot tell, so skipped as before.
    assert dedupe.classify_duplicates([("<k>", a)], {"<k>": None})[0].action == dedupe.DUPLICATE
    # A variant stored by a previous sync is a duplicate now.
    existing = {"<k>": a, dedupe.variant_key(b): b}
    assert dedupe.lookup_keys(["<k>"], [b]) == sorted(["<k>", dedupe.variant_key(b)])
    decision = dedupe.classify_duplicates([("<k>", b)], existing)[0]
    assert decision.action == dedupe.DUPLICATE and decision.key == dedupe.variant_key(b)
