"""Real, throwaway mail servers on loopback for the comunik_mail tests.

The tests exercise genuine IMAP and SMTP conversations (TLS, STARTTLS, SASL, UIDVALIDITY, flags) instead of
mocks, so this module starts a private Dovecot instance and an aiosmtpd capture server on fixed ports of
127.0.0.1. Everything Dovecot needs (config, sockets, state, logs, certificate, mailboxes) lives in one work
directory, so it never touches a system Dovecot that may run on the standard ports.

Only the standard library and aiosmtpd are imported: no Odoo, so it also works from a plain script.
"""

import atexit
import base64
import contextlib
import grp
import imaplib
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from .oauth import get_oauth_provider

#: Shifts every test port, so that two test runs can share a machine (e.g. COMUNIK_TEST_PORT_OFFSET=1000).
_PORT_OFFSET = int(os.environ.get("COMUNIK_TEST_PORT_OFFSET") or 0)
IMAPS_PORT = 19993 + _PORT_OFFSET  # implicit TLS
IMAP_PORT = 19143 + _PORT_OFFSET  # plaintext + STARTTLS
SMTPS_PORT = 19465 + _PORT_OFFSET  # implicit TLS
SMTP_PORT = 19587 + _PORT_OFFSET  # plaintext + STARTTLS
HOST = "127.0.0.1"

_START_TIMEOUT = 20

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = localhost
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
"""

_DOVECOT_CONFIG = """\
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
info_log_path = {workdir}/dovecot.log
protocols = imap
listen = {host}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = {auth_mechanisms}
auth_verbose = yes
auth_failure_delay = 0
login_trusted_networks = {host}/32
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
mail_location = maildir:{workdir}/mail/%u
# The folders a real provider creates, with their RFC 6154 special-use attributes (LIST shows \\Sent...).
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
passdb {{
  driver = dict
  mechanisms = plain login
  args = {workdir}/dict-auth.conf
}}
{oauth_passdb}userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={workdir}/mail/%u
}}
# Connection limits: ``max_connections`` IMAP sessions at once (the scale benchmark holds one IDLE per box). The
# login processes run in "high-performance" mode, each serving many TLS sessions, as on large real servers.
service imap-login {{
  chroot =
  service_count = 0
  process_min_avail = 2
  client_limit = {max_connections}
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service imap {{
  process_limit = {max_connections}
}}
# IDLE sessions learn of new mail from inotify, limited to 128 instances per user on many machines; past that,
# Dovecot would look every 30 s (the default): once a second keeps push prompt with many boxes.
mailbox_idle_check_interval = 1 secs
service anvil {{
  chroot =
  client_limit = {anvil_limit}
}}
"""

# One file per login, read on every lookup: passwd-file would be re-read at most once per second, so a password
# change or user removal right after a login could go unnoticed.
_DICT_AUTH_CONFIG = """\
uri = fs:posix:prefix={passwords}/
iterate_disable = yes
key password {{
  key = %u
}}
passdb_fields {{
  password = %{{dict:password}}
}}
"""


# XOAUTH2 / OAUTHBEARER logins: the token is checked by the fake provider (comunik_support.oauth), and the
# introspection's email must be the login, so a token of one mailbox never opens another.
_OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {workdir}/dovecot-oauth2.conf.ext
}}
"""
_OAUTH_CONFIG = """\
introspection_mode = post
introspection_url = {url}
username_attribute = email
active_attribute = active
active_value = true
"""


def _ensure_port_free(port):
    """Fail early and clearly: the ports are fixed because other code (and testers) type them in."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise RuntimeError(
                f"Port {HOST}:{port} is busy ({exc.strerror}); is a previous test server still running? "
                f"Check with `ss -ltnp 'sport = :{port}'`."
            ) from exc


def _accepts(port):
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    return True


def _make_certificate(directory):
    """Create a self-signed cert (CN/SAN localhost + 127.0.0.1) that is also its own CA, strict-verify friendly."""
    cnf = os.path.join(directory, "openssl.cnf")
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    with open(cnf, "w") as f:
        f.write(_OPENSSL_CONFIG)
    command = ["openssl", "req", "-x509", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-days", "3650"]
    subprocess.run([*command, "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(cert, 0o644)
    return cert, key


def _utf7(mailbox):
    """IMAP's modified UTF-7 (RFC 3501 5.1.3): « Éléments envoyés » -> "&AMk-l&AOk-ments envoy&AOk-s"."""
    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in mailbox:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(mailbox):
    """imaplib sends mailbox names verbatim: encode them and quote them so names with spaces work."""
    return '"{}"'.format(_utf7(mailbox).replace("\\", "\\\\").replace('"', '\\"'))


def _check(response, what):
    typ, data = response
    if typ != "OK":
        raise RuntimeError(f"IMAP {what} failed: {typ} {data!r}")
    return data


def _accounts():
    """System accounts Dovecot runs as.

    As root, Dovecot refuses to access mail as uid 0 and wants unprivileged login/internal users: use the ones
    the Debian package creates (dovenull for login processes, dovecot for internal processes and the mail files).
    As a normal user nothing can change uid, so every role is the current user.
    """
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("dovenull")
            internal = pwd.getpwnam("dovecot")
        except KeyError as exc:
            raise RuntimeError(f"System user missing ({exc}); is the dovecot-core package installed?") from exc
        return {
            "login_user": "dovenull",
            "internal_user": internal.pw_name,
            "internal_uid": internal.pw_uid,
            "internal_group": grp.getgrgid(internal.pw_gid).gr_name,
            "mail_uid": internal.pw_uid,
            "mail_gid": internal.pw_gid,
        }
    user = pwd.getpwuid(os.geteuid()).pw_name
    return {
        "login_user": user,
        "internal_user": user,
        "internal_uid": os.geteuid(),
        "internal_group": grp.getgrgid(os.getegid()).gr_name,
        "mail_uid": os.geteuid(),
        "mail_gid": os.getegid(),
    }


class DovecotServer:
    """A private Dovecot IMAP server (its own daemon) with its users and maildirs under ``workdir``."""

    def __init__(
        self,
        workdir=None,
        imaps_port=IMAPS_PORT,
        imap_port=IMAP_PORT,
        oauth_introspection_url=None,
        extra_config="",
        certificate=None,
        max_connections=200,
    ):
        self.certificate = certificate  # (cert, key) files to reuse, e.g. another test server's: one CA to trust
        self.oauth_introspection_url = oauth_introspection_url
        self.extra_config = extra_config  # appended to dovecot.conf (e.g. an ``imap_capability`` without IDLE)
        self.max_connections = max_connections
        self.imaps_port = imaps_port
        self.imap_port = imap_port
        self._accounts = _accounts()
        self._remove_workdir = workdir is None or not os.path.exists(workdir)
        self.workdir = workdir or tempfile.mkdtemp(prefix="comunik-dovecot-")
        self.config_file = os.path.join(self.workdir, "dovecot.conf")
        self.log_file = os.path.join(self.workdir, "dovecot.log")
        self.passwords_dir = os.path.join(self.workdir, "passwords")
        self.mail_dir = os.path.join(self.workdir, "mail")
        self.ca_file = os.path.join(self.workdir, "cert.pem")
        self.key_file = os.path.join(self.workdir, "key.pem")
        self.users = {}
        self._pid = None
        self._lock = threading.RLock()
        self._uidvalidity_floor = 0

    def start(self):
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise

    def _launch(self):
        for port in (self.imaps_port, self.imap_port):
            _ensure_port_free(port)
        # mkdtemp makes a 0700 dir: Dovecot's unprivileged processes must be able to traverse it.
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        os.makedirs(os.path.join(self.workdir, "state"), exist_ok=True)
        os.makedirs(self.mail_dir, mode=0o700, exist_ok=True)
        self._chown(self.mail_dir)
        if self.certificate:
            for source, target in zip(self.certificate, (self.ca_file, self.key_file), strict=True):
                shutil.copyfile(source, target)
        else:
            _make_certificate(self.workdir)
        os.makedirs(self.passwords_dir, mode=0o700, exist_ok=True)
        os.chown(self.passwords_dir, self._accounts["internal_uid"], -1)
        with open(os.path.join(self.workdir, "dict-auth.conf"), "w") as f:
            f.write(_DICT_AUTH_CONFIG.format(passwords=self.passwords_dir))
        oauth_passdb = ""
        if self.oauth_introspection_url:
            with open(os.path.join(self.workdir, "dovecot-oauth2.conf.ext"), "w") as f:
                f.write(_OAUTH_CONFIG.format(url=self.oauth_introspection_url))
            oauth_passdb = _OAUTH_PASSDB.format(workdir=self.workdir)
        with open(self.config_file, "w") as f:
            f.write(
                _DOVECOT_CONFIG.format(
                    auth_mechanisms="plain login xoauth2 oauthbearer" if oauth_passdb else "plain login",
                    oauth_passdb=oauth_passdb,
                    workdir=self.workdir,
                    host=HOST,
                    cert=self.ca_file,
                    key=self.key_file,
                    imap_port=self.imap_port,
                    imaps_port=self.imaps_port,
                    max_connections=self.max_connections,
                    anvil_limit=2 * self.max_connections + 100,
                    **self._accounts,
                )
                + self.extra_config
            )
        # Dovecot daemonizes itself (no -F): its master is then not our child, so test frameworks that
        # reap leftover child processes after each test class (Odoo's does) leave it running.
        with open(self.log_file, "ab") as log:
            subprocess.run(
                [_dovecot(), "-c", self.config_file],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
                timeout=_START_TIMEOUT,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while not (_accepts(self.imaps_port) and _accepts(self.imap_port)):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Dovecot did not start listening on {HOST}:{self.imaps_port}/{self.imap_port}.\n"
                    f"{self._diagnostics()}"
                )
            time.sleep(0.1)
        self._pid = self._master_pid()

    def _master_pid(self):
        try:
            with open(os.path.join(self.workdir, "run", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self):
        pid = self._pid or self._master_pid()
        if pid is not None and self._alive(pid):
            # SIGTERM to the master is what `dovecot stop` does; it takes its children down with it.
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._alive(pid):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while (_accepts(self.imaps_port) or _accepts(self.imap_port)) and time.monotonic() < deadline:
                time.sleep(0.1)
        self._pid = None
        if self._remove_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _diagnostics(self):
        try:
            with open(self.log_file, errors="replace") as f:
                log_tail = "".join(f.readlines()[-40:])
        except OSError as exc:
            log_tail = str(exc)
        check = subprocess.run([_dovecot(), "-n", "-c", self.config_file], capture_output=True, text=True, check=False)
        return f"--- {self.log_file} (tail) ---\n{log_tail}\n--- dovecot -n ---\n{check.stdout}{check.stderr}"

    def _chown(self, path):
        os.chown(path, self._accounts["mail_uid"], self._accounts["mail_gid"])

    def _user_dir(self, login):
        return os.path.join(self.mail_dir, login)

    def _set_password(self, login, password):
        """Atomically (re)write the login's password file, readable by Dovecot's auth process."""
        path = os.path.join(self.passwords_dir, login)
        with open(path + ".tmp", "w") as f:
            f.write("{PLAIN.B64}" + base64.b64encode(password.encode()).decode())
        os.chown(path + ".tmp", self._accounts["internal_uid"], -1)
        os.replace(path + ".tmp", path)

    def add_user(self, login, password):
        """Create an empty mailbox (or just change the password of an existing one).

        Dovecot lowercases logins, so the login is stored lowercased. A new mailbox is seeded with a UIDVALIDITY
        above any mailbox removed before: Dovecot otherwise derives it from the clock, and a mailbox re-created
        within the same second would keep its old UIDVALIDITY.
        """
        login = login.lower()
        with self._lock:
            user_dir = self._user_dir(login)
            if not os.path.isdir(user_dir):
                os.mkdir(user_dir, 0o700)
                seed = max(int(time.time()), self._uidvalidity_floor)
                with open(os.path.join(user_dir, "dovecot-uidvalidity"), "w") as f:
                    f.write(f"{seed:08x}")
                open(os.path.join(user_dir, f"dovecot-uidvalidity.{seed:08x}"), "w").close()
                for name in os.listdir(user_dir):
                    self._chown(os.path.join(user_dir, name))
                self._chown(user_dir)
            self._set_password(login, password)
            self.users[login] = password

    def remove_user(self, login):
        """Delete the mailbox and the login, e.g. to simulate a mailbox re-created with a new UIDVALIDITY."""
        login = login.lower()
        with self._lock:
            user_dir = self._user_dir(login)
            with contextlib.suppress(OSError, ValueError), open(os.path.join(user_dir, "dovecot-uidvalidity")) as f:
                self._uidvalidity_floor = max(self._uidvalidity_floor, int(f.read().strip(), 16) + 1)
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.passwords_dir, login))
            shutil.rmtree(user_dir, ignore_errors=True)
            self.users.pop(login, None)

    @contextlib.contextmanager
    def _session(self, login):
        login = login.lower()
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL(HOST, self.imaps_port, ssl_context=context, timeout=30)
        try:
            _check(conn.login(login, self.users[login]), "LOGIN")
            yield conn
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    def append(self, login, raw_message, flags=(), folder="INBOX", date=None):
        """IMAP APPEND as ``login`` (creating ``folder`` if needed); return the new UID from APPENDUID, or None."""
        flag_list = "({})".format(" ".join(flags)) if flags else None
        with self._session(login) as conn:
            typ, data = conn.append(_quote(folder), flag_list, date, raw_message)
            if typ == "NO" and b"[TRYCREATE]" in (data[0] or b""):
                _check(conn.create(_quote(folder)), "CREATE")
                typ, data = conn.append(_quote(folder), flag_list, date, raw_message)
            _check((typ, data), "APPEND")
        match = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
        return int(match.group(1)) if match else None

    def append_many(self, login, raw_messages, folder="INBOX"):
        """APPEND many messages over one session (bulk loading for benchmarks and end-to-end tests)."""
        with self._session(login) as conn:
            for raw_message in raw_messages:
                _check(conn.append(_quote(folder), None, None, raw_message), "APPEND")

    def mark_all_seen(self, login, folder="INBOX"):
        """Set ``\\Seen`` on every message of ``folder`` (what fetchmail leaves behind: it takes unseen mail)."""
        with self._session(login) as conn:
            _check(conn.select(_quote(folder)), "SELECT")
            _check(conn.store("1:*", "+FLAGS.SILENT", r"(\Seen)"), "STORE")

    def flags(self, login, folder="INBOX"):
        """Return ``{uid: sorted flags}`` read via EXAMINE; the session-local ``\\Recent`` flag is left out."""
        result = {}
        with self._session(login) as conn:
            _check(conn.select(_quote(folder), readonly=True), "EXAMINE")
            for item in _check(conn.uid("FETCH", "1:*", "(FLAGS)"), "FETCH"):
                if not isinstance(item, bytes):
                    continue
                uid = re.search(rb"UID (\d+)", item)
                flags = re.search(rb"FLAGS \(([^)]*)\)", item)
                if uid and flags:
                    result[int(uid.group(1))] = tuple(
                        sorted(flag for flag in flags.group(1).decode().split() if flag != "\\Recent")
                    )
        return result

    def create_folder(self, login, name):
        """CREATE a folder (e.g. "Factures", "Éléments envoyés"); an existing one is left as it is."""
        with self._session(login) as conn:
            typ, data = conn.create(_quote(name))
            if typ != "OK" and b"ALREADYEXISTS" not in (data[0] or b""):
                _check((typ, data), "CREATE")

    def delete_folder(self, login, name):
        with self._session(login) as conn:
            _check(conn.delete(_quote(name)), "DELETE")

    def messages(self, login, folder="INBOX"):
        """``{uid: (flags, raw bytes)}`` of a folder, read without changing any flag."""
        result = {}
        with self._session(login) as conn:
            _check(conn.select(_quote(folder), readonly=True), "EXAMINE")
            for item in _check(conn.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])"), "FETCH"):
                if not isinstance(item, tuple):
                    continue
                head, raw = item
                uid = re.search(rb"UID (\d+)", head)
                flags = re.search(rb"FLAGS \(([^)]*)\)", head)
                if uid:
                    names = flags.group(1).decode().split() if flags else []
                    result[int(uid.group(1))] = (tuple(sorted(f for f in names if f != "\\Recent")), raw)
        return result

    def kick(self, login):
        """Drop every IMAP connection of ``login`` (``doveadm kick``: the server closes them, as on a restart)."""
        subprocess.run(
            [shutil.which("doveadm") or "/usr/bin/doveadm", "-c", self.config_file, "kick", login.lower()],
            check=True,
            capture_output=True,
            timeout=_START_TIMEOUT,
        )

    def count(self, login, folder="INBOX"):
        with self._session(login) as conn:
            return int(_check(conn.select(_quote(folder), readonly=True), "EXAMINE")[0])


def _dovecot():
    return shutil.which("dovecot") or "/usr/sbin/dovecot"


def _hide_login_data_warning(record):
    """aiosmtpd logs a deprecation warning for its own ``Session.login_data`` on every successful AUTH."""
    return "login_data is deprecated" not in record.getMessage()


class _CaptureHandler:
    def __init__(self, sink, port):
        self.sink = sink
        self.port = port

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd finds mechanisms by this name
        """``AUTH XOAUTH2 <base64 user=..^Aauth=Bearer ..^A^A>``: accepted when the sink's token validator
        says the token is valid and belongs to that user (Google's and Microsoft's SMTP behaviour)."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        login = self.sink._check_xoauth2(args[1])
        if login:
            self.sink._mechanisms[id(server)] = "XOAUTH2"
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.sink._capture(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": envelope.content,
                "auth_login": session.auth_data if session.authenticated else None,
                "auth_mechanism": self.sink._mechanisms.get(id(server), "PLAIN") if session.authenticated else None,
                "port": self.port,
            }
        )
        return "250 2.0.0 OK captured"


class SmtpSink:
    """An SMTP server that accepts (and records) every message; AUTH PLAIN/LOGIN are checked against ``users``.

    Both ports offer AUTH without requiring it, so tests can assert which login (or none) sent each message.
    Without ``cert_file``/``key_file`` a certificate is generated in a private temp dir (see ``ca_file``).
    """

    def __init__(
        self,
        cert_file=None,
        key_file=None,
        smtps_port=SMTPS_PORT,
        smtp_port=SMTP_PORT,
        on_message=None,
        token_validator=None,
    ):
        self.token_validator = token_validator
        self._mechanisms = {}
        self.smtps_port = smtps_port
        self.smtp_port = smtp_port
        self.on_message = on_message
        self.cert_file = cert_file
        self.key_file = key_file
        self.users = {}
        self.messages = []
        self._tempdir = None
        self._controllers = []
        self._changed = threading.Condition()

    @property
    def ca_file(self):
        return self.cert_file

    def add_user(self, login, password):
        self.users[login] = password

    def start(self):
        for port in (self.smtps_port, self.smtp_port):
            _ensure_port_free(port)
        if not self.cert_file:
            self._tempdir = tempfile.mkdtemp(prefix="comunik-smtp-")
            self.cert_file, self.key_file = _make_certificate(self._tempdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        logging.getLogger("mail.log").addFilter(_hide_login_data_warning)
        common = {
            "hostname": HOST,
            "server_hostname": "localhost",
            "authenticator": self._authenticate,
            "auth_require_tls": False,
            "decode_data": False,
        }
        try:
            for port, tls in ((self.smtps_port, {"ssl_context": context}), (self.smtp_port, {"tls_context": context})):
                controller = Controller(_CaptureHandler(self, port), port=port, **tls, **common)
                controller.start()
                self._controllers.append(controller)
        except Exception:
            self.stop()
            raise

    def stop(self):
        while self._controllers:
            self._controllers.pop().stop()
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = self.cert_file = self.key_file = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if login in self.users and self.users[login] == password:
            self._mechanisms[id(server)] = mechanism
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def _check_xoauth2(self, encoded):
        """The login of a valid XOAUTH2 initial response, else None."""
        if not self.token_validator:
            return None
        try:
            text = base64.b64decode(encoded).decode()
        except ValueError:
            return None
        parts = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        login, bearer = parts.get("user", ""), parts.get("auth", "")
        token = bearer[7:] if bearer.startswith("Bearer ") else ""
        email = self.token_validator(token)
        return login if email and email == login.lower() else None

    def _capture(self, message):
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        if self.on_message:
            self.on_message(message)

    def clear(self):
        with self._changed:
            self.messages.clear()

    def wait_for(self, count, timeout=10):
        """Block until at least ``count`` messages were captured; raise TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"Expected {count} captured message(s) within {timeout}s, got {len(self.messages)}")
            return list(self.messages)


_servers = None
_servers_lock = threading.Lock()


def get_servers():
    """Process-wide (Dovecot, SMTP sink) pair, started on first use and stopped at interpreter exit.

    Both accept password logins and XOAUTH2 logins with tokens of the process-wide fake OAuth provider
    (``get_oauth_provider()``)."""
    global _servers
    with _servers_lock:
        if _servers is None:
            provider = get_oauth_provider()
            dovecot = DovecotServer(oauth_introspection_url=provider.introspection_url)
            dovecot.start()
            sink = SmtpSink(cert_file=dovecot.ca_file, key_file=dovecot.key_file, token_validator=provider.validate)
            try:
                sink.start()
            except Exception:
                dovecot.stop()
                raise
            _servers = dovecot, sink
            atexit.register(_stop_servers)
        return _servers


def _stop_servers():
    global _servers
    with _servers_lock:
        if _servers is not None:
            dovecot, sink = _servers
            _servers = None
            sink.stop()
            dovecot.stop()
