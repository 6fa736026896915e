import uuid

import pytest

from comunik_mail.services import connection
from comunik_support import servers


@pytest.fixture
def mailbox(real_servers):
    dovecot, smtp = real_servers
    login = f"svc-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-123")
    smtp.add_user(login, "pw-123")
    return login


def settings(port, login, password="pw-123", encryption="ssl", host=servers.HOST, timeout=3):
    return connection.ServerSettings(host, port, encryption, login, password, timeout)


def test_imap_ok_changes_nothing(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.append(mailbox, b"Subject: hello\r\n\r\nbody\r\n")
    before = dovecot.flags(mailbox)
    assert connection.check_imap(settings(servers.IMAPS_PORT, mailbox)).ok
    assert connection.check_imap(settings(servers.IMAP_PORT, mailbox, encryption="starttls")).ok
    assert dovecot.flags(mailbox) == before  # still unseen: the check only EXAMINEs


def test_smtp_ok_sends_nothing(real_servers, mailbox):
    _dovecot, smtp = real_servers
    count = len(smtp.messages)
    assert connection.check_smtp(settings(servers.SMTPS_PORT, mailbox)).ok
    assert connection.check_smtp(settings(servers.SMTP_PORT, mailbox, encryption="starttls")).ok
    assert len(smtp.messages) == count


@pytest.mark.parametrize(
    "check, port", [(connection.check_imap, servers.IMAPS_PORT), (connection.check_smtp, servers.SMTPS_PORT)]
)
def test_wrong_password_is_auth(mailbox, check, port):
    assert check(settings(port, mailbox, password="nope")).code == connection.AUTH


def test_unknown_host_is_dns(mailbox):
    result = connection.check_imap(settings(993, mailbox, host="imap.nowhere.invalid"))
    assert result.code == connection.DNS


def test_closed_port_is_refused(mailbox):
    import socket

    with socket.socket() as sock:
        sock.bind((servers.HOST, 0))
        port = sock.getsockname()[1]
    assert connection.check_imap(settings(port, mailbox)).code == connection.REFUSED
    assert connection.check_smtp(settings(port, mailbox)).code == connection.REFUSED


def test_tls_on_plain_port_is_tls(mailbox):
    assert connection.check_imap(settings(servers.IMAP_PORT, mailbox)).code == connection.TLS
    assert connection.check_smtp(settings(servers.SMTP_PORT, mailbox)).code == connection.TLS


def test_untrusted_certificate_is_tls(mailbox, monkeypatch):
    monkeypatch.delenv(connection.CA_FILE_ENV)
    assert connection.check_imap(settings(servers.IMAPS_PORT, mailbox)).code == connection.TLS


def test_silent_server_is_timeout(mailbox):
    import socket

    with socket.socket() as sock:
        sock.bind((servers.HOST, 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = connection.check_imap(settings(port, mailbox, encryption="none", timeout=1))
    assert result.code == connection.TIMEOUT


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')", connection.AUTH),
        ("gaierror: [Errno -2] Name or service not known", connection.DNS),
        ("ConnectionRefusedError: [Errno 111] Connection refused", connection.REFUSED),
        ("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", connection.TLS),
        ("TimeoutError: timed out", connection.TIMEOUT),
        ("SMTPDataError: (554, b'Message rejected')", connection.PROTOCOL),
        ("", connection.PROTOCOL),
        (None, connection.PROTOCOL),
    ],
)
def test_failure_text_is_classified(text, code):
    assert connection.classify_failure_text(text) == code


def test_real_auth_failure_text_is_classified(mailbox):
    result = connection.check_smtp(settings(servers.SMTPS_PORT, mailbox, password="wrong"))
    assert connection.classify_failure_text(result.detail) == connection.AUTH
