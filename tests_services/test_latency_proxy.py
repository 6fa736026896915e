"""The benchmark's latency proxy: a real IMAP session through it pays the round trips, and a black hole hangs."""

import socket
import time
import uuid

import pytest

from comunik_mail.services import connection
from comunik_support.latency_proxy import HOST, LatencyProxy

from .conftest import servers


@pytest.fixture
def mailbox(real_servers):
    dovecot, _smtp = real_servers
    login = f"proxy-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-123")
    return login


def timed_session(port, login):
    """Seconds for TLS connect + LOGIN + SELECT + NOOP + LOGOUT; the TLS certificate is still checked."""
    started = time.monotonic()
    client = connection.imap_connect(connection.ServerSettings(HOST, port, "ssl", login, "pw-123", 10))
    client.select_folder("INBOX")
    client.noop()
    client.logout()
    return time.monotonic() - started


def test_each_round_trip_pays_the_delay_and_tls_still_verifies(real_servers, mailbox):
    direct = timed_session(servers.IMAPS_PORT, mailbox)
    with LatencyProxy(servers.IMAPS_PORT, delay=0.05) as proxy:
        proxied = timed_session(proxy.port, mailbox)
        assert proxy.connections == 1
    # TCP handshake, TLS, greeting/capability, LOGIN, SELECT, NOOP: at least 5 round trips of 100 ms.
    assert proxied - direct >= 0.5, (direct, proxied)
    assert proxied < direct + 3.0, (direct, proxied)


def test_large_reply_is_relayed_whole_and_in_order(real_servers, mailbox):
    dovecot, _smtp = real_servers
    body = ("0123456789abcdef" * 64 + "\r\n") * 2000  # about 2 MiB, many relay chunks
    raw = f"From: a@example.test\r\nTo: {mailbox}\r\nSubject: big\r\n\r\n{body}".encode()
    dovecot.append(mailbox, raw)
    with LatencyProxy(servers.IMAPS_PORT, delay=0.02) as proxy:
        client = connection.imap_connect(connection.ServerSettings(HOST, proxy.port, "ssl", mailbox, "pw-123", 10))
        client.select_folder("INBOX")
        [uid] = client.search(["ALL"])
        fetched = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        client.logout()
    assert fetched == raw


def test_blackhole_accepts_and_never_answers():
    with LatencyProxy(blackhole=True) as proxy:
        sock = socket.create_connection((HOST, proxy.port), timeout=5)
        sock.settimeout(0.5)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sock.recv(1)
        assert time.monotonic() - started >= 0.45
        sock.close()


def test_a_server_that_never_answers_times_out_in_the_tls_handshake():
    """imapclient alone would wait forever for the TLS handshake (no timeout on its implicit-TLS socket): one
    hung server would hold its sync job until Odoo kills it."""
    with LatencyProxy(blackhole=True) as proxy:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            connection.imap_connect(connection.ServerSettings(HOST, proxy.port, "ssl", "x@example.test", "pw", 1))
        assert time.monotonic() - started < 5
        assert connection.classify_error(raised.value) == connection.TIMEOUT
        result = connection.check_imap(connection.ServerSettings(HOST, proxy.port, "ssl", "x@example.test", "pw", 1))
        assert result.code == connection.TIMEOUT
