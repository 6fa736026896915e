"""comunik_support.corpus: demo mailboxes and benchmark messages are valid, threaded, dated and deterministic."""

import email
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest

from comunik_support import corpus

SUPPORT = "support@demo.comunik.test"
COMMERCIAL = "commercial@demo.comunik.test"
JULIE = "julie.martin@demo.comunik.test"
PARIS = ZoneInfo("Europe/Paris")
NOWS = {
    "afternoon": datetime(2025, 3, 14, 15, 0, 12, 345678, tzinfo=PARIS),
    "just-after-midnight": datetime(2025, 10, 27, 0, 20, tzinfo=PARIS),  # day after the DST change
    "utc-morning": datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
}
HEADERS_ONLY = BytesHeaderParser(policy=policy.compat32)


@pytest.fixture(scope="module", params=list(NOWS), ids=list(NOWS))
def demo(request):
    now = NOWS[request.param]
    return now, corpus.demo_mailboxes(now)


@pytest.fixture(scope="module")
def afternoon_demo():
    now = NOWS["afternoon"]
    boxes = corpus.demo_mailboxes(now)
    return now, {box: [(mail, _parse(mail.raw)) for mail in mails] for box, mails in boxes.items()}


def _parse(raw):
    return email.message_from_bytes(raw, policy=policy.default)


def _assert_valid(raw):
    """Parses without any defect (message, parts, headers), CRLF only, every text part decodes."""
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r"), "CRLF line endings only"
    msg = _parse(raw)
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
        for name, value in part.items():
            assert not value.defects, (name, value, value.defects)
        if part.get_content_maintype() == "text":
            assert part.get_content().strip()
    assert msg["Message-ID"] and msg["Date"] and msg["From"] and msg["Subject"]
    return msg


def _ids(value):
    return re.findall(r"<[^<>\s]+>", value or "")


def _attachments(msg):
    return [part for part in msg.walk() if part.get_filename()]


# --- Demo mailboxes ------------------------------------------------------------------------------------------------


def test_demo_boxes_and_totals(demo):
    _now, boxes = demo
    assert list(boxes) == [SUPPORT, COMMERCIAL, JULIE]
    assert all(isinstance(mail, corpus.DemoMail) for mails in boxes.values() for mail in mails)
    assert 30 <= sum(len(mails) for mails in boxes.values()) <= 45
    assert all(len(mails) >= 5 for mails in boxes.values())


def test_demo_messages_are_valid_with_unique_ids(demo):
    _now, boxes = demo
    ids = [_assert_valid(mail.raw)["Message-ID"] for mails in boxes.values() for mail in mails]
    assert all(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id) for message_id in ids)
    assert len(set(ids)) == len(ids)


def test_demo_dates(demo):
    now, boxes = demo
    for box, mails in boxes.items():
        for mail in mails:
            assert mail.date.tzinfo is not None and mail.date.utcoffset() is not None
            assert parsedate_to_datetime(_parse(mail.raw)["Date"]) == mail.date, "INTERNALDATE = Date header"
            assert now - timedelta(days=7) <= mail.date <= now
            assert now - mail.date < timedelta(days=6)
        today = [mail for mail in mails if mail.date.astimezone(now.tzinfo).date() == now.date()]
        assert len(today) >= 2, box
        if box != JULIE:
            assert len(today) >= 3, box
            assert any(now - mail.date > timedelta(days=2) for mail in mails), box


def test_demo_threads_stay_in_their_mailbox(demo):
    _now, boxes = demo
    replies = 0
    for mails in boxes.values():
        known = {}
        for mail in mails:
            msg = _parse(mail.raw)
            in_reply_to = msg["In-Reply-To"]
            if in_reply_to:
                replies += 1
                references = _ids(msg["References"])
                assert in_reply_to in known, "parent in the same mailbox, listed before"
                assert references[-1] == in_reply_to
                assert set(references) <= set(known)
                assert mail.date >= known[in_reply_to].date
            known[msg["Message-ID"]] = mail
    assert replies >= 10


def test_demo_flags():
    boxes = corpus.demo_mailboxes(NOWS["afternoon"])
    flags = [mail.flags for mails in boxes.values() for mail in mails]
    assert all(isinstance(value, tuple) for value in flags)
    assert sum(r"\Seen" in value for value in flags) >= 3
    assert sum(not value for value in flags) >= 10, "most new mail is unread"
    for mails in boxes.values():
        assert any(r"\Seen" in mail.flags for mail in mails)
        assert any(r"\Seen" not in mail.flags for mail in mails)


def test_demo_addresses_are_fictitious(afternoon_demo):
    _now, boxes = afternoon_demo
    for _box, mails in boxes.items():
        for _mail, msg in mails:
            fields = [str(msg[name]) for name in ("From", "To", "Cc") if msg[name]]
            addresses = [address for _name, address in getaddresses(fields)]
            assert addresses
            assert all(address.endswith((".example", ".test")) for address in addresses), addresses
            assert msg["Message-ID"].rstrip(">").endswith((".example", ".test"))


def test_demo_support_box(afternoon_demo):
    _now, boxes = afternoon_demo
    mails = boxes[SUPPORT]
    subjects = [str(msg["Subject"]) for _mail, msg in mails]
    assert "Facture n°2024-118 en double" in subjects
    assert "Re: Facture n°2024-118 en double" in subjects
    for words in ("Panne", "Accès bloqué", "remboursement", "livraison"):
        assert any(words in subject for subject in subjects), words
    # Threads include our own replies, sent from support@, in the middle of the chain.
    ids = {msg["Message-ID"]: msg for _mail, msg in mails}
    chains = [msg for _mail, msg in mails if len(_ids(msg["References"])) >= 2 and "Auto-Submitted" not in msg.keys()]
    assert chains
    for msg in chains:
        middle = ids[_ids(msg["References"])[-1]]
        assert middle["From"].addresses[0].addr_spec == SUPPORT
    # A PDF attachment that looks like a PDF.
    pdfs = [part for _mail, msg in mails for part in _attachments(msg) if part.get_content_type() == "application/pdf"]
    assert any(part.get_content().startswith(b"%PDF-1.4") for part in pdfs)
    # An accented attachment filename, encoded with RFC 2231.
    assert any(b"filename*=utf-8''" in mail.raw for mail, _msg in mails)
    assert any(part.get_filename() == "relevé_prélèvement_CMD-20931.pdf" for part in pdfs)
    # An inline image referenced by cid from the HTML.
    inline = [(msg, part) for _mail, msg in mails for part in msg.walk() if part.get_content_type() == "image/png"]
    assert inline
    msg, image = inline[0]
    cid = image["Content-ID"].strip("<>")
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"cid:{cid}" in msg.get_body(("html",)).get_content()
    # Sent To a colleague, Cc support@.
    cc_only = [msg for _mail, msg in mails if msg["Cc"] and SUPPORT in str(msg["Cc"]) and SUPPORT not in str(msg["To"])]
    assert cc_only
    # The out-of-office reply.
    auto = [msg for _mail, msg in mails if msg["Auto-Submitted"] == "auto-replied"]
    assert [str(msg["Subject"]) for msg in auto] == ["Réponse automatique : absent du bureau"]


def test_demo_commercial_box(afternoon_demo):
    _now, boxes = afternoon_demo
    mails = boxes[COMMERCIAL]
    subjects = [str(msg["Subject"]) for _mail, msg in mails]
    assert "Demande de devis — 40 chaises de bureau" in subjects
    assert any("Relance" in subject for subject in subjects)
    assert any("rendez-vous" in subject for subject in subjects)
    assert max(len(_ids(msg["References"])) for _mail, msg in mails) >= 2, "a thread of 3 messages"
    xlsx = [part for _mail, msg in mails for part in _attachments(msg) if part.get_filename().endswith(".xlsx")]
    assert xlsx
    with zipfile.ZipFile(BytesIO(xlsx[0].get_content())) as archive:
        assert "xl/worksheets/sheet1.xml" in archive.namelist()
    latin = [(mail, msg) for mail, msg in mails if msg.get_content_charset() == "iso-8859-1"]
    assert len(latin) == 1
    mail, msg = latin[0]
    assert b"=?iso-8859-1?" in mail.raw and "tr\xe9teaux".encode("latin-1") not in mail.raw  # 7-bit: QP body
    assert "tréteaux" in msg.get_content()
    assert "tréteaux" in str(msg["Subject"])


def test_demo_personal_box(afternoon_demo):
    _now, boxes = afternoon_demo
    mails = boxes[JULIE]
    for _mail, msg in mails:
        sent_by_her = msg["From"].addresses[0].addr_spec == JULIE
        assert sent_by_her or JULIE in str(msg["To"]) + str(msg["Cc"] or "")
    assert any(msg["From"].addresses[0].addr_spec == JULIE for _mail, msg in mails), "her own reply"
    assert any(
        msg["From"].addresses[0].addr_spec.endswith("@demo.comunik.test") for _mail, msg in mails
    ), "internal mail"


def test_demo_files_loaded_whole_and_cleaned():
    """Every .eml file is loaded once, its X-Comunik-Demo-* headers removed, the same bytes whatever the day."""
    files = sorted(corpus.DEMO_MAIL_DIR.rglob("*.eml"))
    assert files == sorted(path for box in corpus.MAILBOXES for path in corpus.demo_files(box))
    first, second = corpus.demo_mailboxes(NOWS["afternoon"]), corpus.demo_mailboxes(NOWS["utc-morning"])
    assert sum(len(mails) for mails in first.values()) == len(files)
    for box, mails in first.items():
        for mail, other in zip(mails, second[box], strict=True):
            assert b"X-Comunik-Demo" not in mail.raw
            assert mail.raw.partition(b"\r\nDate: ")[0] == other.raw.partition(b"\r\nDate: ")[0]
    assert sum(path.stat().st_size for path in files) < 2 * 1024 * 1024


def test_demo_naive_now_is_local_time():
    boxes = corpus.demo_mailboxes(datetime(2025, 3, 14, 15, 0))
    assert all(mail.date.tzinfo is not None for mails in boxes.values() for mail in mails)


# --- Benchmark messages --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk():
    now = NOWS["afternoon"]
    start = time.perf_counter()
    messages = list(corpus.bulk_messages(5000, SUPPORT, now))
    return now, messages, time.perf_counter() - start


def test_bulk_is_fast_and_deterministic(bulk):
    now, messages, elapsed = bulk
    assert len(messages) == 5000
    assert elapsed < 3, f"{elapsed:.2f} s"
    assert list(corpus.bulk_messages(5000, SUPPORT, now)) == messages
    assert list(corpus.bulk_messages(50, SUPPORT, now, seed=7)) != messages[:50]
    assert list(corpus.bulk_messages(50, COMMERCIAL, now)) != messages[:50]


def test_bulk_headers_ids_threads_dates(bulk):
    now, messages, _elapsed = bulk
    seen = set()
    replies = attachments = encoded_subjects = html = 0
    for raw in messages:
        assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
        head = HEADERS_ONLY.parsebytes(raw)
        message_id = head["Message-ID"]
        assert message_id not in seen
        if head["In-Reply-To"]:
            replies += 1
            references = _ids(head["References"])
            assert head["In-Reply-To"] in seen and references[-1] == head["In-Reply-To"]
            assert set(references) <= seen
            assert str(make_header(decode_header(head["Subject"]))).startswith("Re: ")
        seen.add(message_id)
        date = parsedate_to_datetime(head["Date"])
        assert now - timedelta(days=7) <= date <= now
        assert now - date <= timedelta(days=6, seconds=1)
        attachments += b"Content-Disposition: attachment" in raw
        encoded_subjects += "=?utf-8?" in head["Subject"]
        html += b"Content-Type: text/html" in raw
    assert 0.15 * 5000 <= replies <= 0.25 * 5000
    assert 0.07 * 5000 <= attachments <= 0.13 * 5000
    assert 0.2 * 5000 <= html <= 0.5 * 5000
    assert encoded_subjects >= 500
    dates = [parsedate_to_datetime(HEADERS_ONLY.parsebytes(raw)["Date"]) for raw in messages[::100]]
    assert dates == sorted(dates) and dates[-1] - dates[0] > timedelta(days=5)


def test_bulk_messages_are_valid(bulk):
    _now, messages, _elapsed = bulk
    sample = messages[:150] + messages[150::40]  # full parsing with policy.default is slow: a sample
    kinds = set()
    for raw in sample:
        msg = _assert_valid(raw)
        for part in _attachments(msg):
            data = part.get_payload(decode=True)
            assert 1000 <= len(data) <= 50 * 1024
            kinds.add(part.get_content_type())
            if part.get_content_type() == "application/pdf":
                assert data.startswith(b"%PDF-1.4")
            if part.get_content_type() == "image/png":
                assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert raw.partition(b"\r\n\r\n")[0].isascii(), "non-ASCII headers are RFC 2047 encoded"
    assert kinds == {"application/pdf", "text/csv", "image/png"}
    accented = [raw for raw in sample if "é" in str(_parse(raw)["Subject"])]
    assert accented, "some RFC 2047 subjects with accents"


def test_bulk_other_timezones():
    now = datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    for raw in corpus.bulk_messages(200, JULIE, now, seed=3):
        date = parsedate_to_datetime(HEADERS_ONLY.parsebytes(raw)["Date"])
        assert now - timedelta(days=7) <= date <= now
