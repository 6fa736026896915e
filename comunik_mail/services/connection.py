"""Connection checks for IMAP and SMTP servers.

Every failure is classified into a short code so that the Odoo layer can show
a precise, translated reason (authentication, DNS, refused, TLS, timeout)
instead of a raw exception.
"""

import base64
import contextlib
import functools
import imaplib
import os
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass

from imapclient import IMAPClient, imap4, tls
from imapclient.exceptions import LoginError

DEFAULT_TIMEOUT = 15.0

OK = "ok"
AUTH = "auth"
DNS = "dns"
REFUSED = "refused"
TLS = "tls"
TIMEOUT = "timeout"
PROTOCOL = "protocol"

#: Extra CA bundle trusted on top of the system store (self-signed company or test servers).
CA_FILE_ENV = "COMUNIK_MAIL_CA_FILE"


@dataclass
class ServerSettings:
    host: str
    port: int
    encryption: str = "ssl"  # "ssl" (implicit TLS), "starttls" or "none"
    username: str = ""
    password: str = ""
    timeout: float = DEFAULT_TIMEOUT
    access_token: str = ""  # OAuth2 bearer token (Google, Microsoft): XOAUTH2 instead of the password


class _GreetingCapabilities:
    """imaplib asks CAPABILITY right after the greeting, even when the greeting already announced them
    (``* OK [CAPABILITY ...]``, Dovecot, Gmail, Outlook): one network round trip per connection for nothing.
    The announced list is used when there is one (RFC 3501 §7.1)."""

    def _get_capabilities(self):
        announced = self.untagged_responses.get("CAPABILITY")
        if not (announced and announced[-1]):
            return super()._get_capabilities()
        self.capabilities = tuple(str(announced[-1], self._encoding).upper().split())
        return None


class _TimedIMAP4TLS(_GreetingCapabilities, tls.IMAP4_TLS):
    """imapclient's implicit-TLS transport opens its socket with *no* timeout (imaplib passes None): a server
    that accepts the connection and never answers (overloaded, half-dead, filtered) would block the TLS
    handshake and the greeting forever, and with them the box's sync job. The connect timeout applies here."""

    def _create_socket(self, timeout):
        return super()._create_socket(self._timeout if timeout is None else timeout)


class _PlainIMAP4(_GreetingCapabilities, imap4.IMAP4WithTimeout):
    """Plain-text or STARTTLS transport, without the extra CAPABILITY round trip."""


class TimedIMAPClient(IMAPClient):
    """IMAPClient whose timeout also bounds the TLS handshake and the server's greeting."""

    def _create_IMAP4(self):  # noqa: N802 - imapclient's name
        if self.stream:
            return super()._create_IMAP4()
        if self.ssl:
            return _TimedIMAP4TLS(self.host, self.port, self.ssl_context, getattr(self._timeout, "connect", None))
        return _PlainIMAP4(self.host, self.port, getattr(self._timeout, "connect", None))

    def logout_quickly(self):
        """LOGOUT without waiting for the server's BYE: the session's work is done and committed, so waiting
        would only hold the worker one more round trip before its next box."""
        try:
            self._imap.send(self._imap._new_tag() + b" LOGOUT\r\n")
        finally:
            self.shutdown()


@dataclass
class CheckResult:
    code: str
    detail: str = ""

    @property
    def ok(self):
        return self.code == OK


def make_ssl_context():
    """System trust store, plus the bundle named by COMUNIK_MAIL_CA_FILE if any.

    One context per trust configuration, shared (contexts are thread-safe): loading the system store costs about
    1 MB, which a thousand IDLE sessions must not pay each."""
    extra = os.environ.get(CA_FILE_ENV)
    if not (extra and os.path.exists(extra)):
        extra = None
    return _ssl_context(extra, os.path.getmtime(extra) if extra else None)


_SSL_CONTEXT_LOCK = threading.Lock()


def _ssl_context(extra, mtime):
    # Locked: the sync threads of a job all connect at once, and would each load the system store otherwise.
    with _SSL_CONTEXT_LOCK:
        return _new_ssl_context(extra, mtime)


@functools.lru_cache(maxsize=8)
def _new_ssl_context(extra, _mtime):
    context = ssl.create_default_context()
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


def xoauth2_string(user, token):
    """SASL XOAUTH2 initial response (Google's and Microsoft's IMAP/SMTP sign-in)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def classify_error(exc):
    """Map a connection exception to one of the codes above (order matters: most are OSErrors)."""
    if isinstance(exc, LoginError | smtplib.SMTPAuthenticationError):
        return AUTH
    if isinstance(exc, socket.gaierror):
        return DNS
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError, including TLS handshake timeouts
        return TIMEOUT
    if isinstance(exc, ssl.SSLError):  # includes certificate verification errors
        return TLS
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, imaplib.IMAP4.error) and "auth" in str(exc).lower():
        return AUTH
    return PROTOCOL


#: Fragments of exception texts (Python's, or Odoo's failure reasons) -> code, checked in this order.
_FAILURE_TEXT_CODES = (
    (AUTH, ("smtpauthenticationerror", "authentication", "535", "auth failed", "invalid credentials")),
    (DNS, ("gaierror", "name or service not known", "getaddrinfo", "nodename nor servname", "no address")),
    (TIMEOUT, ("timed out", "timeouterror")),
    (TLS, ("ssl", "certificate", "tls")),
    (REFUSED, ("connection refused", "connectionrefusederror", "errno 111")),
)


def classify_failure_text(text):
    """Code of a failure known only by its text (Odoo stores mail sending failures as text)."""
    lowered = (text or "").lower()
    for code, fragments in _FAILURE_TEXT_CODES:
        if any(fragment in lowered for fragment in fragments):
            return code
    return PROTOCOL


def _run(check, settings):
    try:
        check(settings)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a classified result
        return CheckResult(classify_error(exc), f"{type(exc).__name__}: {exc}")
    return CheckResult(OK)


def imap_connect(settings):
    """Open an authenticated IMAPClient for ``settings`` (caller logs out)."""
    use_ssl = settings.encryption == "ssl"
    context = make_ssl_context() if settings.encryption in ("ssl", "starttls") else None
    client = TimedIMAPClient(
        settings.host, port=settings.port, ssl=use_ssl, ssl_context=context, timeout=settings.timeout
    )
    try:
        if settings.encryption == "starttls":
            client.starttls(context)
        # What the greeting announced was used (pre-TLS with STARTTLS): only the login's answer is kept.
        client._imap.untagged_responses.pop("CAPABILITY", None)
        if settings.access_token:
            client.oauth2_login(settings.username, settings.access_token)
        else:
            client.login(settings.username, settings.password)
        if client._imap.untagged_responses.get("CAPABILITY"):
            # Cache the capabilities the login response announced: imapclient would otherwise ask CAPABILITY
            # again after the first SELECT (which empties imaplib's untagged responses).
            client.capabilities()
    except Exception:
        _quiet_shutdown(client)
        raise
    return client


def _quiet_shutdown(client):
    """Close the socket after a failure; the original error is the one worth reporting."""
    with contextlib.suppress(Exception):
        client.shutdown()


def _check_imap(settings):
    client = imap_connect(settings)
    try:
        client.select_folder("INBOX", readonly=True)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the check already succeeded or failed
            _quiet_shutdown(client)


def check_imap(settings):
    """Log in and select INBOX read-only; never changes anything on the server."""
    return _run(_check_imap, settings)


def smtp_connect(settings):
    """Open an SMTP session, secured and authenticated as configured (caller quits)."""
    context = make_ssl_context()
    if settings.encryption == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.encryption == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.access_token:
            _smtp_xoauth2(smtp, settings)
        elif settings.username:
            smtp.login(settings.username, settings.password)
    except Exception:
        smtp.close()
        raise
    return smtp


def _smtp_xoauth2(smtp, settings):
    """``AUTH XOAUTH2``; a refusal raises SMTPAuthenticationError like a refused password."""
    response = base64.b64encode(xoauth2_string(settings.username, settings.access_token).encode()).decode()
    code, message = smtp.docmd("AUTH", f"XOAUTH2 {response}")
    if code == 334:  # the server's JSON error challenge: an empty answer ends the exchange
        code, message = smtp.docmd("")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, message)


def _check_smtp(settings):
    smtp = smtp_connect(settings)
    try:
        smtp.quit()
    except smtplib.SMTPException:
        smtp.close()


def check_smtp(settings):
    """EHLO, TLS as configured, AUTH; sends nothing."""
    return _run(_check_smtp, settings)
