"""IMAP IDLE watchers against the real test Dovecot: push of new mail, reconnection, servers without IDLE, OAuth."""

import queue
import threading
import time
import uuid

import pytest

from comunik_mail.services import connection, imap_idle
from comunik_support import servers
from comunik_support.oauth import get_oauth_provider

#: Dovecot 2.3's post-login CAPABILITY without IDLE (``imap_capability`` replaces the list).
NO_IDLE_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
    "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
    "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE "
    "LITERAL+ SPECIAL-USE"
)
FAST = imap_idle.IdleConfig(reidle_interval=300.0, backoff_first=0.5, backoff_max=2.0)


def email(login, subject="Nouvelle demande"):
    return (
        f"From: Client <client@client-dupont.example>\r\nTo: {login}\r\nSubject: {subject}\r\n"
        f"Message-ID: <idle-{uuid.uuid4().hex}@client-dupont.example>\r\n\r\nBonjour.\r\n"
    ).encode()


@pytest.fixture
def dovecot(real_servers):
    return real_servers[0]


@pytest.fixture
def mailbox(dovecot):
    login = f"idle-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-idle")
    yield login
    dovecot.remove_user(login)


def settings(login, password="pw-idle", port=servers.IMAPS_PORT):
    return connection.ServerSettings(servers.HOST, port, "ssl", login, password, 10)


class Recorder:
    """Collects a watcher's events and states, for the test thread to wait on."""

    def __init__(self):
        self.events = queue.Queue()
        self.states = []
        self._changed = threading.Condition()

    def on_event(self, event):
        self.events.put(event)

    def on_status(self, state, detail):
        with self._changed:
            self.states.append((state, detail))
            self._changed.notify_all()

    def wait_state(self, state, timeout=15, after=0):
        with self._changed:
            ok = self._changed.wait_for(lambda: state in [s for s, _d in self.states[after:]], timeout)
        assert ok, f"no {state} state within {timeout}s: {self.states}"


def watch(provider, recorder, config=FAST, folder="INBOX"):
    watcher = imap_idle.FolderWatcher(
        provider, folder, on_event=recorder.on_event, on_status=recorder.on_status, config=config
    )
    return watcher.start()


def test_backoff_doubles_and_is_capped():
    no_jitter = {"jitter": 0.0}
    assert imap_idle.backoff_delay(0) == 0.0
    assert [imap_idle.backoff_delay(n, 1.0, 300.0, **no_jitter) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert imap_idle.backoff_delay(50, 1.0, 300.0, **no_jitter) == 300.0
    assert imap_idle.backoff_delay(3, 1.0, 300.0, jitter=0.2, rand=lambda: 1.0) == pytest.approx(4.8)
    assert imap_idle.backoff_delay(3, 1.0, 300.0, jitter=0.2, rand=lambda: 0.0) == pytest.approx(3.2)


def test_new_mail_in_responses():
    assert imap_idle.new_mail_in([(b"OK", b"Still here")], 3) == (False, 3)
    assert imap_idle.new_mail_in([(4, b"EXISTS")], 3) == (True, 4)
    assert imap_idle.new_mail_in([(2, b"EXPUNGE"), (2, b"EXISTS")], 3) == (False, 2)
    assert imap_idle.new_mail_in([(1, b"RECENT")], 5) == (True, 5)
    assert imap_idle.new_mail_in([(0, b"RECENT"), (5, b"FETCH", (b"FLAGS", ()))], 5) == (False, 5)
    with pytest.raises(ConnectionError):
        imap_idle.new_mail_in([(b"BYE", b"Server shutting down.")], 5)


def test_append_is_pushed_within_seconds(dovecot, mailbox):
    recorder = Recorder()
    watcher = watch(lambda: settings(mailbox), recorder)
    try:
        recorder.wait_state(imap_idle.WATCHING)
        assert recorder.events.empty(), "no event before any mail"
        started = time.time()
        dovecot.append(mailbox, email(mailbox))
        event = recorder.events.get(timeout=5)
        latency = time.time() - started
        assert (event.kind, event.folder, event.exists) == (imap_idle.NEW_MAIL, "INBOX", 1)
        assert latency < 5
        dovecot.append(mailbox, email(mailbox, "Deuxième"))
        assert recorder.events.get(timeout=5).exists == 2
    finally:
        watcher.stop()
    assert not watcher.alive and watcher.state == imap_idle.STOPPED


def test_other_folder_and_reidle(dovecot, mailbox):
    """A folder other than INBOX is watched as well, and mail arriving across a re-IDLE is not lost."""
    dovecot.create_folder(mailbox, "Factures")
    recorder = Recorder()
    watcher = watch(lambda: settings(mailbox), recorder, imap_idle.IdleConfig(reidle_interval=0.3), "Factures")
    try:
        recorder.wait_state(imap_idle.WATCHING)
        dovecot.append(mailbox, email(mailbox), folder="INBOX")  # another folder: nothing for this watcher
        time.sleep(1.0)  # several re-IDLEs
        assert recorder.events.empty()
        for index in range(3):
            dovecot.append(mailbox, email(mailbox, f"Facture {index}"), folder="Factures")
            assert recorder.events.get(timeout=5).exists == index + 1
        assert watcher.state == imap_idle.WATCHING and watcher.failures == 0
    finally:
        watcher.stop()


def test_dropped_connection_reconnects_and_reports_missed_mail(dovecot, mailbox):
    recorder = Recorder()
    config = imap_idle.IdleConfig(backoff_first=1.5, backoff_max=3.0)
    watcher = watch(lambda: settings(mailbox), recorder, config)
    try:
        recorder.wait_state(imap_idle.WATCHING)
        mark = len(recorder.states)
        dovecot.kick(mailbox)  # the server drops the session
        recorder.wait_state(imap_idle.RETRYING, after=mark)
        dovecot.append(mailbox, email(mailbox))  # during the backoff: seen at the reconnection (UIDNEXT moved)
        event = recorder.events.get(timeout=10)
        assert event.exists == 1
        recorder.wait_state(imap_idle.WATCHING, after=mark)
        assert watcher.reconnections == 1
        dovecot.append(mailbox, email(mailbox, "Après la reconnexion"))
        assert recorder.events.get(timeout=5).exists == 2
    finally:
        watcher.stop()


def test_unreachable_server_backs_off_then_recovers(dovecot, mailbox):
    """Connections refused: retries spaced by the backoff; once the settings point at the server, it watches."""
    attempts = []
    good = threading.Event()

    def provider():
        attempts.append(time.monotonic())
        return settings(mailbox) if good.is_set() else settings(mailbox, port=servers.IMAPS_PORT + 11)

    recorder = Recorder()
    watcher = watch(provider, recorder, imap_idle.IdleConfig(backoff_first=0.2, backoff_max=0.8))
    try:
        deadline = time.monotonic() + 10
        while len(attempts) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)][:4]
        assert len(gaps) == 4 and gaps[2] > gaps[0] and max(gaps) < 0.8 * 1.2 + 0.3, gaps
        assert watcher.state == imap_idle.RETRYING and "Refused" in watcher.detail
        good.set()
        recorder.wait_state(imap_idle.WATCHING)
        dovecot.append(mailbox, email(mailbox))
        assert recorder.events.get(timeout=5).exists == 1
    finally:
        watcher.stop()


def test_refused_login_stops_the_watcher(mailbox):
    recorder = Recorder()
    watcher = watch(lambda: settings(mailbox, password="wrong"), recorder)
    recorder.wait_state(imap_idle.AUTH_FAILED)
    watcher.join(5)
    assert not watcher.alive and watcher.state == imap_idle.AUTH_FAILED


@pytest.fixture(scope="module")
def dovecot_without_idle(real_servers):
    """A second real Dovecot that does not offer IDLE, with the first one's (trusted) certificate."""
    first = real_servers[0]
    server = servers.DovecotServer(
        imaps_port=servers.IMAPS_PORT + 10,
        imap_port=servers.IMAP_PORT + 10,
        extra_config=f"imap_capability = {NO_IDLE_CAPABILITIES}\n",
        certificate=(first.ca_file, first.key_file),
    )
    server.start()
    yield server
    server.stop()


def test_server_without_idle_is_reported(dovecot_without_idle):
    login = "noidle@example.test"
    dovecot_without_idle.add_user(login, "pw-idle")
    client = connection.imap_connect(settings(login, port=dovecot_without_idle.imaps_port))
    try:
        assert not client.has_capability("IDLE") and client.has_capability("UIDPLUS")
    finally:
        client.logout()
    recorder = Recorder()
    watcher = watch(lambda: settings(login, port=dovecot_without_idle.imaps_port), recorder)
    recorder.wait_state(imap_idle.NO_IDLE)
    watcher.join(5)
    assert not watcher.alive and watcher.state == imap_idle.NO_IDLE
    assert "does not offer IMAP IDLE" in watcher.detail


def test_oauth_token_renewed_at_each_reconnection(dovecot):
    """XOAUTH2: the caller's callback gives a new access token at every connection; the old one has expired."""
    provider = get_oauth_provider()
    login = f"idle-oauth-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, uuid.uuid4().hex)  # nobody knows the password: only tokens open the box
    tokens = []

    def fresh_settings():
        provider.expire_access_tokens(login)  # the previous token is worthless from now on
        tokens.append(provider.issue_access_token(login))
        return connection.ServerSettings(
            servers.HOST, servers.IMAPS_PORT, "ssl", login, "", 10, access_token=tokens[-1]
        )

    recorder = Recorder()
    watcher = watch(fresh_settings, recorder)
    try:
        recorder.wait_state(imap_idle.WATCHING)
        mark = len(recorder.states)
        dovecot.kick(login)
        recorder.wait_state(imap_idle.RETRYING, after=mark)
        recorder.wait_state(imap_idle.WATCHING, after=mark)
        assert len(tokens) == 2 and tokens[0] != tokens[1]
        dovecot.append(login, email(login))
        assert recorder.events.get(timeout=5).exists == 1
    finally:
        watcher.stop()
        dovecot.remove_user(login)


def test_shared_stop_signal_stops_many_boxes_at_once(dovecot):
    logins = [f"idle-many-{index}-{uuid.uuid4().hex[:6]}@example.test" for index in range(20)]
    for login in logins:
        dovecot.add_user(login, "pw-idle")
    stop = imap_idle.StopSignal()
    recorder = Recorder()
    boxes = [
        imap_idle.BoxWatcher(
            lambda login=login: settings(login),
            ["INBOX"],
            on_event=recorder.on_event,
            config=FAST,
            stop=stop,
        ).start(login)
        for login in logins
    ]
    try:
        deadline = time.monotonic() + 30
        while any(box.state != imap_idle.WATCHING for box in boxes):
            assert time.monotonic() < deadline, [box.state for box in boxes]
            time.sleep(0.05)
        dovecot.append(logins[7], email(logins[7]))
        assert recorder.events.get(timeout=5).exists == 1
        started = time.monotonic()
        stop.set()
        for box in boxes:
            box.stop(5)
        assert not any(box.alive for box in boxes)
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        stop.close()
        for login in logins:
            dovecot.remove_user(login)
