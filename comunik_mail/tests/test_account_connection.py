from odoo.tests import Form, tagged

from ..services import connection
from .common import HOST, IMAP_PORT, IMAPS_PORT, SMTP_PORT, SMTPS_PORT, ComunikMailCase, SilentServer, unused_port


@tagged("post_install", "-at_install")
class TestAccountConnection(ComunikMailCase):
    """« Tester la connexion » against the real Dovecot and SMTP servers, messages in French."""

    def _test(self, account):
        account.with_context(lang="fr_FR").action_test_connection()
        return account.validity_state, account.with_context(lang="fr_FR").validity_message

    def test_success_marks_account_valid(self):
        account = self.create_account()
        self.assertEqual(account.validity_state, "untested")
        state, message = self._test(account)
        self.assertEqual(state, "valid", message)
        self.assertIn("Connexion réussie", message)
        self.assertTrue(account.validity_date)

    def test_starttls_on_both_protocols(self):
        account = self.create_account(
            imap_port=IMAP_PORT, imap_encryption="starttls", smtp_port=SMTP_PORT, smtp_encryption="starttls"
        )
        state, message = self._test(account)
        self.assertEqual(state, "valid", message)

    def test_wrong_password(self):
        account = self.create_account()
        account.imap_password = "wrong-password"
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertIn("IMAP : authentification refusée", message)
        self.assertIn("SMTP : authentification refusée", message)

    def test_wrong_smtp_password_only(self):
        account = self.create_account(smtp_same_credentials=False)
        account.write({"smtp_user": account.email, "smtp_password": "nope"})
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertNotIn("IMAP", message)
        self.assertIn("SMTP : authentification refusée", message)

    def test_closed_port(self):
        account = self.create_account(imap_port=unused_port())
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertIn("IMAP : connexion refusée", message)
        self.assertNotIn("SMTP", message)

    def test_unknown_host(self):
        account = self.create_account(imap_host="imap.nowhere.invalid", smtp_host="smtp.nowhere.invalid")
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertIn("« imap.nowhere.invalid » est introuvable", message)
        self.assertIn("« smtp.nowhere.invalid » est introuvable", message)

    def test_tls_failure(self):
        # Implicit TLS against Dovecot's plaintext port: the handshake cannot succeed.
        account = self.create_account(imap_port=IMAP_PORT, imap_encryption="ssl")
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertIn("IMAP : échec de la négociation SSL/TLS", message)

    def test_timeout(self):
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.connection_timeout", "1")
        silent = SilentServer()
        self.addCleanup(silent.close)
        account = self.create_account(imap_port=silent.port, imap_encryption="none")
        state, message = self._test(account)
        self.assertEqual(state, "invalid")
        self.assertIn(f"IMAP : le serveur {HOST}:{silent.port} ne répond pas", message)

    def test_gmail_failure_explains_application_password(self):
        account = self.create_account()
        settings = connection.ServerSettings(host="imap.gmail.com", port=993)
        message = account.with_context(lang="fr_FR")._failure_message(
            "IMAP", settings, connection.CheckResult(connection.AUTH)
        )
        self.assertIn("mot de passe d'application", message)
        other = account.with_context(lang="fr_FR")._failure_message(
            "IMAP", connection.ServerSettings(host=HOST, port=993), connection.CheckResult(connection.AUTH)
        )
        self.assertNotIn("mot de passe d'application", other)

    def test_test_before_saving(self):
        """The form's button works on an unsaved account and its outcome is saved with it."""
        login, password = self.make_mailbox()
        form = Form(self.env["comunik.mail.account"].with_user(self.admin))
        form.email = login
        self.assertEqual(form.imap_user, login, "username defaults to the address")
        self.assertEqual(form.imap_port, 993)
        self.assertEqual(form.smtp_port, 465)
        form.imap_host = HOST
        form.smtp_host = HOST
        form.imap_port = IMAPS_PORT
        form.smtp_port = SMTPS_PORT
        form.imap_password = "bad"
        form.connection_test_count += 1
        self.assertEqual(form.validity_state, "invalid")
        form.imap_password = password
        form.connection_test_count += 1
        self.assertEqual(form.validity_state, "valid", form.validity_message)
        account = form.save()
        self.assertEqual(account.validity_state, "valid")
        self.assertEqual(account.fetchmail_server_id.sudo().password, password)
        self.assertEqual(account.mail_server_id.sudo().smtp_pass, password)
        self.assertEqual(account.mail_server_id.sudo().smtp_user, login)


@tagged("post_install", "-at_install")
class TestProviderPresets(ComunikMailCase):
    """The form proposes the servers of the provider recognized from the address; values stay editable."""

    def test_known_provider_fills_the_servers(self):
        form = Form(self.env["comunik.mail.account"].with_user(self.admin))
        form.email = "agence.dupont@orange.fr"
        self.assertEqual(form.mail_provider, "orange")
        self.assertEqual((form.imap_host, form.imap_port, form.imap_encryption), ("imap.orange.fr", 993, "ssl"))
        self.assertEqual(form.smtp_host, "smtp.orange.fr")
        form.smtp_port = 587  # still editable
        self.assertEqual(form.smtp_port, 587)

    def test_provider_chosen_by_hand_and_generic_guess(self):
        form = Form(self.env["comunik.mail.account"].with_user(self.admin))
        form.email = "contact@entreprise.example"
        self.assertEqual(form.mail_provider, "generic")
        self.assertEqual(form.imap_host, "imap.entreprise.example")
        form.mail_provider = "ovh"
        self.assertEqual((form.imap_host, form.smtp_host), ("ssl0.ovh.net", "ssl0.ovh.net"))

    def test_refused_password_explains_the_provider_help(self):
        account = self.env["comunik.mail.account"].with_context(lang="fr_FR")
        refused = connection.CheckResult(connection.AUTH)
        for host, expected in (("ssl0.ovh.net", "OVHcloud"), ("imap.mail.me.com", "appleid.apple.com")):
            settings = connection.ServerSettings(host=host, port=993)
            self.assertIn(expected, account._failure_message("IMAP", settings, refused))
