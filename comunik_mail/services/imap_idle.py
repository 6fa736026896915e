"""IMAP IDLE (RFC 2177) watchers: the server pushes « new mail » instead of being polled.

Pure protocol over imapclient, no Odoo: ``odoo-bin comunik_idle`` (comunik_mail/cli/comunik_idle.py) starts one
``BoxWatcher`` per box and syncs the box when it reports new mail.

One thread per watched folder, blocked in ``poll()`` on its IMAP socket and on a stop pipe shared by every
watcher: an idle box costs no CPU and one small thread stack (``WATCHER_STACK_SIZE``), and stopping wakes every
thread at once. Threads keep the code a plain blocking IMAP session (login, SELECT, IDLE, DONE), with imapclient's
own timeouts; a selector loop would need an asynchronous IMAP client to get the same from one thread.
"""

import contextlib
import logging
import os
import random
import select
import socket
import threading
import time
import weakref
from dataclasses import dataclass, field

from imapclient.exceptions import LoginError

from . import connection

_logger = logging.getLogger(__name__)

NEW_MAIL = "new_mail"

#: Watcher states, as reported to ``on_status``.
CONNECTING = "connecting"
WATCHING = "watching"
RETRYING = "retrying"  # connection lost or refused: reconnecting with backoff
NO_IDLE = "no_idle"  # the server does not offer IDLE: the box keeps being polled, the watcher stops
AUTH_FAILED = "auth_failed"  # login refused: the watcher stops (the sync reports it and backs off)
STOPPED = "stopped"

#: Stack of a watcher thread: an IMAP session needs little (the sync's deep MIME walks run elsewhere).
WATCHER_STACK_SIZE = 256 * 1024
_stack_lock = threading.Lock()


@dataclass
class IdleConfig:
    """Timings, in seconds."""

    #: IDLE is stopped and restarted at least this often (RFC 2177: under 29 min; NAT routers forget earlier).
    reidle_interval: float = 300.0
    backoff_first: float = 1.0
    backoff_max: float = 300.0


@dataclass
class IdleEvent:
    """Something new in ``folder``: ``exists`` messages now (``None`` when seen at a reconnection)."""

    kind: str
    folder: str
    exists: int | None = None
    at: float = field(default_factory=time.time)


def backoff_delay(failures, first=1.0, cap=300.0, jitter=0.2, rand=random.random):
    """Wait before the ``failures``-th reconnection in a row: doubling from ``first``, capped, ±``jitter`` so that
    a thousand boxes of a restarted server do not all come back in the same second."""
    if failures <= 0:
        return 0.0
    delay = min(first * (2 ** min(failures - 1, 30)), cap)
    return max(delay * (1 + jitter * (2 * rand() - 1)), 0.0)


def new_mail_in(responses, exists):
    """``(new, exists)`` after IDLE's untagged ``responses`` (imapclient's parsed form), given the folder's message
    count before them: new mail is an ``EXISTS`` above the count or a non-zero ``RECENT``; ``EXPUNGE`` lowers it.
    Raises ConnectionError on ``BYE`` (server shutting down)."""
    new = False
    for response in responses:
        if not response:
            continue
        if isinstance(response[0], int) and len(response) >= 2:
            number, kind = response[0], response[1]
            if kind == b"EXISTS":
                new |= exists is None or number > exists
                exists = number
            elif kind == b"RECENT" and number > 0:
                new = True
            elif kind == b"EXPUNGE" and exists:
                exists -= 1
        elif response[0] == b"BYE":
            raise ConnectionError(f"the server closed the session: {response[1:]!r}")
    return new, exists


class StopSignal:
    """One pipe shared by many watchers: set() makes the read end readable, which wakes every ``poll()``, and
    stops every watcher registered on it (those waiting for a reconnection too)."""

    def __init__(self):
        self._read, self._write = os.pipe()
        self._set = threading.Event()
        self._events = weakref.WeakSet()

    def register(self, event):
        self._events.add(event)
        if self._set.is_set():
            event.set()

    def fileno(self):
        return self._read

    def is_set(self):
        return self._set.is_set()

    def set(self):
        if not self._set.is_set():
            self._set.set()
            with contextlib.suppress(OSError):
                os.write(self._write, b"x")
        for event in list(self._events):
            event.set()

    def wait(self, timeout):
        """Sleep ``timeout`` seconds unless stopped first; True when stopped."""
        if not self._set.is_set() and timeout > 0:
            poller = select.poll()
            poller.register(self._read, select.POLLIN)
            poller.poll(timeout * 1000)
        return self._set.is_set()

    def close(self):
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


class FolderWatcher:
    """Watch one folder of one box: IDLE, re-IDLE every ``reidle_interval``, reconnect with backoff.

    :param settings_provider: called before every connection, returns ``connection.ServerSettings``: a fresh
        OAuth access token (or a new password) is taken at each reconnection
    :param on_event: ``on_event(IdleEvent)`` in the watcher's thread, on new mail: must return quickly
    :param on_status: ``on_status(state, detail)`` on every change of state (see the constants above)
    """

    def __init__(self, settings_provider, folder="INBOX", on_event=None, on_status=None, config=None, stop=None):
        self.settings_provider = settings_provider
        self.folder = folder
        self.on_event = on_event or (lambda event: None)
        self.on_status = on_status or (lambda state, detail: None)
        self.config = config or IdleConfig()
        self.stop_signal = stop or StopSignal()
        self._own_stop = stop is None
        self._stopping = threading.Event()
        self.stop_signal.register(self._stopping)
        self.state = STOPPED
        self.detail = ""
        self.failures = 0
        self.reconnections = 0
        self.events = 0
        self._exists = None
        self._uidnext = None
        self._client = None
        self._thread = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, name=None):
        with _stack_lock:
            previous = threading.stack_size(WATCHER_STACK_SIZE)
            try:
                self._thread = threading.Thread(target=self.run, name=name or f"idle:{self.folder}", daemon=True)
                self._thread.start()
            finally:
                threading.stack_size(previous)
        return self

    def stop(self, timeout=5.0):
        """Stop this watcher (the shared stop signal stops them all at once: see ``BoxWatcher``)."""
        self._stopping.set()
        client = self._client
        if client is not None:  # wakes its poll(): the socket reads EOF
            with contextlib.suppress(Exception):
                client.socket().shutdown(socket.SHUT_RDWR)
        if self._own_stop:
            self.stop_signal.set()
        self.join(timeout)

    def join(self, timeout=5.0):
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self):
        return bool(self._thread and self._thread.is_alive())

    def _stopped(self):
        return self._stopping.is_set()

    def _set_state(self, state, detail=""):
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            try:
                self.on_status(state, detail)
            except Exception:  # noqa: BLE001 - a broken callback must not kill the watcher
                _logger.exception("IDLE status callback failed")

    def _emit(self, exists):
        self.events += 1
        try:
            self.on_event(IdleEvent(NEW_MAIL, self.folder, exists))
        except Exception:  # noqa: BLE001
            _logger.exception("IDLE event callback failed")

    # ------------------------------------------------------------------ thread body

    def run(self):
        try:
            while not self._stopped():
                if self.failures and self._stopping.wait(self._delay()):
                    break
                outcome = self._session()
                if outcome in (NO_IDLE, AUTH_FAILED):
                    return
        finally:
            if self.state not in (NO_IDLE, AUTH_FAILED):
                self._set_state(STOPPED)

    def _delay(self):
        return backoff_delay(self.failures, self.config.backoff_first, self.config.backoff_max)

    def _session(self):
        """One connection, from login to its end; returns the state it ended in."""
        self._set_state(CONNECTING if not self.failures else RETRYING, self.detail)
        try:
            settings = self.settings_provider()
            client = connection.imap_connect(settings)
        except LoginError as exc:
            self._set_state(AUTH_FAILED, str(exc))
            return AUTH_FAILED
        except Exception as exc:  # noqa: BLE001 - network, TLS, OAuth renewal: try again later
            return self._failed(exc)
        self._client = client
        try:
            if not client.has_capability("IDLE"):
                self._set_state(NO_IDLE, f"{settings.host} does not offer IMAP IDLE")
                return NO_IDLE
            self._select(client)
            self._idle_loop(client)
            return STOPPED
        except Exception as exc:  # noqa: BLE001 - connection lost: reconnect with backoff
            if self._stopped():
                return STOPPED
            return self._failed(exc)
        finally:
            self._client = None
            self._close(client)

    def _failed(self, exc):
        self.failures += 1
        self._set_state(RETRYING, f"{type(exc).__name__}: {exc}")
        return RETRYING

    def _select(self, client):
        """EXAMINE the folder; mail that came while we were away (UIDNEXT moved) is new mail too."""
        info = client.select_folder(self.folder, readonly=True)
        exists = int(info.get(b"EXISTS", 0))
        uidnext = int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None
        missed = self._uidnext is not None and uidnext is not None and uidnext > self._uidnext
        if self._exists is not None and uidnext is None:
            missed = exists > self._exists
        self._exists, self._uidnext = exists, uidnext
        if self.failures:
            self.reconnections += 1
        if missed:
            self._emit(exists)

    def _idle_loop(self, client):
        sock = client.socket()
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
        poller.register(self.stop_signal.fileno(), select.POLLIN)
        while not self._stopped():
            client.idle()
            self.failures = 0
            self._set_state(WATCHING)
            deadline = time.monotonic() + self.config.reidle_interval
            while not self._stopped():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                ready = {fd for fd, _mask in poller.poll(remaining * 1000)}
                if self._stopped():
                    break
                if sock.fileno() not in ready:
                    continue
                responses = client.idle_check(timeout=0)
                if not responses:
                    break  # readable but nothing to read: EOF or a TLS-only record; DONE below tells which
                self._handle(responses)
            if self._stopped():
                with contextlib.suppress(Exception):
                    client.idle_done()
                return
            _text, responses = client.idle_done()  # raises on a dead connection: reconnect
            self._handle(responses)

    def _handle(self, responses):
        new, self._exists = new_mail_in(responses, self._exists)
        if new:
            self._emit(self._exists)

    @staticmethod
    def _close(client):
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - already gone
            with contextlib.suppress(Exception):
                client.shutdown()


class BoxWatcher:
    """The watchers of one box's folders (IDLE watches the selected folder only: one session per folder)."""

    def __init__(self, settings_provider, folders=("INBOX",), on_event=None, on_status=None, config=None, stop=None):
        self.folders = list(folders) or ["INBOX"]
        self.watchers = [
            FolderWatcher(
                settings_provider,
                folder,
                on_event=on_event,
                on_status=(lambda state, detail, folder=folder: on_status(folder, state, detail))
                if on_status
                else None,
                config=config,
                stop=stop,
            )
            for folder in self.folders
        ]

    def start(self, name="box"):
        for watcher in self.watchers:
            watcher.start(f"idle:{name}:{watcher.folder}")
        return self

    def stop(self, timeout=5.0):
        for watcher in self.watchers:
            watcher._stopping.set()
        for watcher in self.watchers:
            watcher.stop(timeout)

    @property
    def state(self):
        """The box's state: NO_IDLE / AUTH_FAILED as soon as one folder says so, else the worst of its folders."""
        states = [watcher.state for watcher in self.watchers]
        for state in (NO_IDLE, AUTH_FAILED, RETRYING, CONNECTING, WATCHING):
            if state in states:
                return state
        return STOPPED

    @property
    def alive(self):
        return any(watcher.alive for watcher in self.watchers)
