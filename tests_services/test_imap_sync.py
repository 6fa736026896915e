"""services/imap_sync.py against a real Dovecot: size-bounded fetches, watermark, safe \\Seen."""

import imaplib
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from comunik_mail.services import connection, imap_sync, mime
from comunik_support import poison

from .conftest import servers

OLD = datetime(2020, 1, 6, 10, 0, tzinfo=UTC)


@pytest.fixture
def mailbox(real_servers):
    dovecot, _smtp = real_servers
    login = f"sync-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-123")
    return login


def settings(login):
    return connection.ServerSettings(servers.HOST, servers.IMAPS_PORT, "ssl", login, "pw-123", 10)


class Counting:
    """Counts the IMAP commands a reader sends (to check the fast paths)."""

    def __init__(self, reader):
        self.calls = []
        for name in ("search", "fetch"):
            original = getattr(reader.client, name)
            setattr(reader.client, name, self._wrap(name, original))

    def _wrap(self, name, original):
        def call(*args, **kwargs):
            self.calls.append(name)
            return original(*args, **kwargs)

        return call


def test_fetch_poison_size_bounded_each_uid_once(real_servers, mailbox):
    dovecot, _smtp = real_servers
    messages = [poison.normal_email(i) for i in range(5)]
    messages += [
        factory()
        for kind, _description, factory in poison.POISON_EMAILS
        if kind not in poison.HEAVY and kind != "empty"  # Dovecot refuses zero-byte messages
    ]
    dovecot.append_many(mailbox, messages)
    raws = dict(enumerate(messages, start=1))  # a new mailbox numbers its UIDs from 1
    budget, cap, batch_size = 64 * 1024, 300 * 1024, 7
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        plan = reader.plan(0, 0, None)
        assert plan.uids == sorted(raws) and plan.watermark == max(raws)
        batches = list(reader.fetch(plan.uids, batch_size=batch_size, max_bytes=budget, max_message_bytes=cap))
    fetched = [message for batch in batches for message in batch]
    assert [message.uid for message in fetched] == sorted(raws)  # every UID exactly once, in order
    for batch in batches:
        assert 0 < len(batch) <= batch_size
        full = sum(message.size for message in batch if not message.truncated)
        assert full <= budget or len(batch) == 1
    truncated = [message for message in fetched if message.truncated]
    assert truncated and all(message.size > cap for message in truncated)
    for message in fetched:
        assert message.size is not None and message.internal_date is not None
        if message.truncated:
            assert message.raw.endswith(b"\r\n\r\n") and len(message.raw) < message.size
            parsed = mime.headers_only(message.raw, fallback_date=message.internal_date)
            assert parsed.warnings[-1] == "too-large"
        else:
            assert _same(message.raw, raws[message.uid])
            assert message.size >= len(raws[message.uid])
            mime.parse_message(message.raw, fallback_date=message.internal_date)


def _same(served, appended):
    """Dovecot serves what was appended, except line ends (CRLF) and NULs (stored as 0x80)."""

    def canonical(raw):
        return raw.replace(b"\x00", b"\x80").replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    return canonical(served) == canonical(appended)


def test_empty_period_sets_watermark_and_old_mail_never_comes(real_servers, mailbox):
    dovecot, _smtp = real_servers
    old = [dovecot.append(mailbox, poison.normal_email(i), date=OLD) for i in range(3)]
    since = date.today() - timedelta(days=7)
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        plan = reader.plan(0, 0, since)
        uidvalidity = plan.state.uidvalidity
    assert plan.uids == [] and plan.watermark == max(old) and not plan.rescan
    last_uid = max(0, plan.watermark)  # what the caller stores: nothing to fetch, the watermark still counts

    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        counter = Counting(reader)
        again = reader.plan(uidvalidity, last_uid, since)
        assert again.uids == [] and again.watermark == last_uid
        assert counter.calls == []  # nothing new: not a single SEARCH

    new = dovecot.append(mailbox, poison.normal_email(10, date="Mon, 06 Jan 2020 10:00:00 +0000"))
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        plan = reader.plan(uidvalidity, last_uid, since)
        assert plan.uids == [new] and plan.watermark == new
        (batch,) = list(reader.fetch(plan.uids))
    assert [message.uid for message in batch] == [new]


def test_unfinished_first_scan_resumes_within_the_period(real_servers, mailbox):
    dovecot, _smtp = real_servers
    old = [dovecot.append(mailbox, poison.normal_email(i), date=OLD) for i in range(2)]
    recent = [dovecot.append(mailbox, poison.normal_email(i)) for i in range(2, 4)]
    since = date.today() - timedelta(days=7)
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        plan = reader.plan(0, 0, since)
        uidvalidity = plan.state.uidvalidity
    assert plan.uids == recent and plan.watermark == recent[-1]
    # The sync stopped after the first recent email (time budget, crash); meanwhile an old-dated email arrived.
    moved_in = dovecot.append(mailbox, poison.normal_email(9), date=OLD)
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        resumed = reader.plan(uidvalidity, recent[0], since, watermark=plan.watermark)
    assert resumed.uids == [recent[1], moved_in]  # new arrivals always come; old mail of the scan never
    assert resumed.watermark == moved_in and not set(old) & set(resumed.uids)


def test_watermark_without_uidnext(real_servers, mailbox):
    dovecot, _smtp = real_servers
    uids = [dovecot.append(mailbox, poison.normal_email(i), date=OLD) for i in range(3)]
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        reader.state.uidnext = None  # some servers do not send it
        plan = reader.plan(0, 0, date.today())
    assert plan.uids == [] and plan.watermark == max(uids)


def test_rescan_after_uidvalidity_change(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.append(mailbox, poison.normal_email(1))
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        plan = reader.plan(1, 500, None)  # stored state from another UIDVALIDITY
    assert plan.rescan and plan.uids == [1] and plan.watermark == 1


def test_set_seen_after_uidvalidity_change_finds_messages_by_id(real_servers, mailbox):
    dovecot, _smtp = real_servers
    first = poison.normal_email(1, message_id="<a@x.example>")
    second = poison.normal_email(2, message_id="<b@x.example>")
    decoy = poison.normal_email(3, message_id="<a@x.example> <c@x.example>")  # a HEADER search matches it too
    dovecot.append(mailbox, first)
    dovecot.append(mailbox, second)
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        old_validity = reader.state.uidvalidity
    assert imap_sync.set_seen(settings(mailbox), [1], uidvalidity=old_validity, message_ids=["<a@x.example>"]) == [1]
    assert dovecot.flags(mailbox) == {1: ("\\Seen",), 2: ()}

    # The mailbox is re-created: same emails, other order, new UIDVALIDITY. UID 1 is now the other email.
    dovecot.remove_user(mailbox)
    dovecot.add_user(mailbox, "pw-123")
    dovecot.append(mailbox, second)
    dovecot.append(mailbox, decoy)
    dovecot.append(mailbox, first)
    flagged = imap_sync.set_seen(settings(mailbox), [2], uidvalidity=old_validity, message_ids=["<b@x.example>"])
    assert flagged == [1]
    assert dovecot.flags(mailbox) == {1: ("\\Seen",), 2: (), 3: ()}
    flagged = imap_sync.set_seen(settings(mailbox), [1], uidvalidity=old_validity, message_ids=["<a@x.example>"])
    assert flagged == [3]  # not the decoy (2), whose header merely contains the id
    # Stale UIDs with nothing to find them by: nothing is flagged rather than the wrong email.
    digest = mime.message_digest(b"x")
    assert imap_sync.set_seen(settings(mailbox), [2], uidvalidity=old_validity, message_ids=[digest]) == []
    assert imap_sync.set_seen(settings(mailbox), [2], uidvalidity=old_validity) == []
    assert dovecot.flags(mailbox) == {1: ("\\Seen",), 2: (), 3: ("\\Seen",)}
    assert imap_sync.set_seen(settings(mailbox), []) == []


def test_set_seen_non_ascii_and_folded_ids(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.append(mailbox, poison.normal_email(1, message_id="<réunion-été@x.example>"))
    dovecot.append(mailbox, poison.normal_email(2, message_id="<plain@x.example>"))
    flagged = imap_sync.set_seen(
        settings(mailbox), [9], uidvalidity=1, message_ids=["<réunion-été@x.example>", " <plain@\r\n x.example>"]
    )
    assert flagged == [1, 2]
    assert dovecot.flags(mailbox) == {1: ("\\Seen",), 2: ("\\Seen",)}


@pytest.fixture
def wire(monkeypatch):
    """The IMAP commands a client writes on the wire (their names), in order."""
    sent = []
    original = imaplib.IMAP4.send

    def send(self, data):
        words = data.split(b" ", 2)
        if len(words) > 1 and words[0].startswith(self.tagpre):
            sent.append(words[1].strip().decode())
        return original(self, data)

    monkeypatch.setattr(imaplib.IMAP4, "send", send)
    return sent


@pytest.mark.parametrize("encryption", ["ssl", "starttls"])
def test_incremental_sync_round_trips(real_servers, mailbox, wire, encryption):
    """New mail in a known folder costs LOGIN, EXAMINE, one FETCH for the new UIDs and their sizes, one for the
    bodies, and a LOGOUT nobody waits for: no CAPABILITY (announced by the greeting and the login) nor SEARCH.
    On a distant server every round trip saved is a fraction of a second per box."""
    dovecot, _smtp = real_servers
    first = dovecot.append(mailbox, poison.normal_email(1))
    port = servers.IMAPS_PORT if encryption == "ssl" else servers.IMAP_PORT
    box = connection.ServerSettings(servers.HOST, port, encryption, mailbox, "pw-123", 10)
    with imap_sync.ImapFolderReader(box) as reader:
        uidvalidity = reader.state.uidvalidity
    new = [dovecot.append(mailbox, poison.normal_email(index)) for index in (2, 3)]
    wire.clear()
    with imap_sync.ImapFolderReader(box) as reader:
        plan = reader.plan(uidvalidity, first, None)
        batches = list(reader.fetch(plan.uids))
    assert plan.uids == new and plan.watermark == new[-1]
    assert [message.uid for batch in batches for message in batch] == new
    handshake = ["STARTTLS"] if encryption == "starttls" else []
    assert wire == [*handshake, "LOGIN", "EXAMINE", "UID", "UID", "LOGOUT"]


def test_incremental_fetch_above_the_highest_uid_returns_nothing(real_servers, mailbox):
    """``UID FETCH n:*`` answers the highest message when n is above it: never taken for a new one."""
    dovecot, _smtp = real_servers
    last = dovecot.append(mailbox, poison.normal_email(1))
    with imap_sync.ImapFolderReader(settings(mailbox)) as reader:
        reader.state.uidnext = last + 5  # a server announcing a higher UIDNEXT (expunged mail above)
        plan = reader.plan(reader.state.uidvalidity, last, None)
    assert plan.uids == [] and plan.watermark == last + 4
