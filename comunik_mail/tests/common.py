import os
import socket
import threading
import uuid
from unittest.mock import patch

from odoo.tests import TransactionCase, new_test_user

from comunik_support.servers import HOST, IMAP_PORT, IMAPS_PORT, SMTP_PORT, SMTPS_PORT, get_servers

from ..models.comunik_mail_account import HOST_POLICY_PARAM

__all__ = [
    "HOST",
    "IMAP_PORT",
    "IMAPS_PORT",
    "SMTP_PORT",
    "SMTPS_PORT",
    "ComunikMailCase",
    "ComunikSyncCase",
    "use_real_servers",
]


def use_real_servers(env=None, allowed_hosts=HOST):
    """Start (once per process) the throwaway Dovecot and SMTP sink and trust their certificate.

    With ``env``, also let non-admins reach them: they listen on loopback, which the host policy
    reserves to admins unless an admin allows it.
    """
    dovecot, smtp = get_servers()
    os.environ["COMUNIK_MAIL_CA_FILE"] = dovecot.ca_file
    if env is not None:
        env["ir.config_parameter"].sudo().set_param(HOST_POLICY_PARAM, allowed_hosts)
    return dovecot, smtp


def unused_port():
    """A loopback port nothing listens on (for "connection refused")."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class SilentServer:
    """Accepts TCP connections and never answers: provokes client timeouts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.clients = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.clients.append(conn)

    def close(self):
        for conn in self.clients:
            conn.close()
        self.sock.close()


class ComunikMailCase(TransactionCase):
    """Users of every role, a department, and helpers to create real mailboxes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot, cls.smtp = use_real_servers(cls.env)
        # Each test's cron runs poll every box again at once (TestCronClaim tests the interval).
        cls.env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_interval_seconds", "0")
        # One sync thread per job: a test's cursors all share its one transaction under a lock the test thread
        # holds, so worker threads would only wait. The threads run for real in tests_e2e (real processes).
        cls.env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_threads", "1")
        cls.admin = new_test_user(
            cls.env, "cmk_admin", groups="base.group_user,comunik_mail.group_comunik_mail_admin", name="Adèle Admin"
        )
        user_groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.owner = new_test_user(cls.env, "cmk_owner", groups=user_groups, name="Odile Propriétaire")
        cls.other = new_test_user(cls.env, "cmk_other", groups=user_groups, name="Octave Autre")
        cls.dispatcher = new_test_user(cls.env, "cmk_dispatcher", groups=user_groups, name="Denis Dispatcheur")
        cls.member = new_test_user(cls.env, "cmk_member", groups=user_groups, name="Mélanie Membre")
        cls.department = cls.env["hr.department"].create({"name": "Support client"})
        cls.env["hr.employee"].create(
            {"name": cls.member.name, "user_id": cls.member.id, "department_id": cls.department.id}
        )

    def send_for_real(self):
        """Let Odoo send mail in this test (it never does in tests) to the real SMTP sink, trusting its
        certificate (Odoo's strict TLS uses the system trust store)."""
        self.patch(type(self.env["ir.mail_server"]), "_disable_send", lambda *args: False)
        environ = patch.dict(os.environ, {"SSL_CERT_FILE": self.dovecot.ca_file})
        environ.start()
        self.addCleanup(environ.stop)
        self.smtp.clear()

    @classmethod
    def make_mailbox(cls, password="S3cret-pass"):
        """A fresh, empty Dovecot mailbox with the same credentials on the SMTP sink."""
        login = f"box-{uuid.uuid4().hex[:10]}@example.test"
        cls.dovecot.add_user(login, password)
        cls.smtp.add_user(login, password)
        return login, password

    @classmethod
    def account_values(cls, login, password, **overrides):
        values = {
            "email": login,
            "category": "personal",
            "imap_host": HOST,
            "imap_port": IMAPS_PORT,
            "imap_encryption": "ssl",
            "imap_user": login,
            "imap_password": password,
            "smtp_host": HOST,
            "smtp_port": SMTPS_PORT,
            "smtp_encryption": "ssl",
            "smtp_same_credentials": True,
        }
        values.update(overrides)
        return values

    @classmethod
    def create_account(cls, user=None, **overrides):
        login, password = cls.make_mailbox()
        model = cls.env["comunik.mail.account"].with_user(user or cls.admin)
        return model.create(cls.account_values(login, password, **overrides))

    @classmethod
    def create_shared_account(cls, **overrides):
        """A shared box of the test department, dispatched by the test dispatcher."""
        values = {
            "category": "shared",
            "department_ids": [(6, 0, cls.department.ids)],
            "dispatcher_ids": [(6, 0, cls.dispatcher.ids)],
        }
        values.update(overrides)
        return cls.create_account(**values)


class ComunikSyncCase(ComunikMailCase):
    """For tests that synchronize: the sync commits per batch in a cursor of its own, wrapped here
    in the test transaction; each test gets a fresh shared mailbox (Dovecot keeps mail across rollbacks)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry_enter_test_mode_cls()
