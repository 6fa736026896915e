"""services/limits.py and the caps mime.parse_message honours."""

from comunik_mail.services import limits, mime
from comunik_support import poison


def test_plan_round_trips_keeps_order_and_budget():
    sizes = [(1, 10), (2, 10), (3, 25), (4, 5), (5, None), (6, 100), (7, 1)]
    groups = limits.plan_round_trips(sizes, max_bytes=30, max_count=3, max_message_bytes=50, header_cost=2)
    assert groups == [
        [(1, False), (2, False)],
        [(3, False), (4, False), (5, False)],
        [(6, True), (7, False)],  # oversized: only its headers (cost 2) come
    ]
    assert [uid for group in groups for uid, _ in group] == [1, 2, 3, 4, 5, 6, 7]


def test_plan_round_trips_big_message_alone():
    groups = limits.plan_round_trips([(1, 5), (2, 40), (3, 5)], max_bytes=30, max_count=10, max_message_bytes=100)
    assert groups == [[(1, False)], [(2, False)], [(3, False)]]
    assert limits.plan_round_trips([], max_bytes=30) == []


def test_is_oversized_and_reasons():
    assert limits.is_oversized(limits.MAX_MESSAGE_BYTES + 1)
    assert not limits.is_oversized(limits.MAX_MESSAGE_BYTES)
    assert not limits.is_oversized(None)
    assert limits.quarantine_reasons(["no-date", "too-large", "attachments-dropped:3", "defects:2"]) == [
        "too-large",
        "attachments-dropped:3",
    ]


def test_attachment_cap_keeps_raw_source():
    raw = poison._many_attachments(30)
    parsed = mime.parse_message(raw, max_attachments=10)
    assert len(parsed.attachments) == 10
    assert parsed.attachments[-1].filename == mime.RAW_FILENAME and parsed.attachments[-1].content == raw
    assert "attachments-dropped:21" in parsed.warnings
    assert limits.quarantine_reasons(parsed.warnings) == ["attachments-dropped:21"]
    full = mime.parse_message(raw)
    assert len(full.attachments) == 30 and full.warnings == []


def test_part_cap():
    parsed = mime.parse_message(poison._tiny_parts(50), max_parts=10)
    assert limits.TOO_MANY_PARTS in parsed.warnings
    assert parsed.body_text.count("x") == 9  # the root counts as one part
    assert parsed.attachments[-1].filename == mime.RAW_FILENAME


def test_size_cap_parses_headers_only():
    raw = poison.normal_email(3) + b"x" * 2000
    parsed = mime.parse_message(raw, max_bytes=1000)
    assert parsed.warnings == [limits.TOO_LARGE]
    assert parsed.subject == "Demande 3" and parsed.message_id == "<normal-3@clients.example>"
    assert parsed.body_text == "" and parsed.attachments == []


def test_headers_only():
    head = poison.normal_email(4).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    parsed = mime.headers_only(head)
    assert parsed.subject == "Demande 4" and parsed.from_email == "client4@clients.example"
    assert parsed.warnings == [limits.TOO_LARGE] and parsed.header_date is not None
    assert mime.headers_only(b"").warnings == ["no-date", limits.TOO_LARGE]
    assert limits.TOO_LARGE in mime.headers_only(b"\xff\x00garbage").warnings
