"""Google and Microsoft sign-in (OAuth2, XOAUTH2), end to end.

Odoo's own google_gmail / microsoft_outlook run the consent flow and refresh the tokens; only their endpoint
URLs point to the fake provider of comunik_support.oauth. The Dovecot and the SMTP sink accept these mailboxes
only with the provider's valid access tokens (their passwords are never given to Odoo), so a synced email or a
captured reply proves the token chain.
"""

import uuid
from email import message_from_bytes
from email import policy as email_policy
from urllib.parse import urlsplit

import requests

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.google_gmail.models import google_gmail_mixin

from comunik_support.oauth import get_oauth_provider

from .common import HOST, IMAPS_PORT, SMTP_PORT, ComunikMailCase
from .test_sync import build_email

GOOGLE_AUTH = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"


class _GoogleEndpoints:
    """google_gmail's ``requests``, with Google's token URL (hard-coded there) pointing to the fake provider."""

    def __init__(self, provider):
        self.urls = {GOOGLE_TOKEN: provider.google_token_url}

    def __getattr__(self, name):
        return getattr(requests, name)

    def post(self, url, *args, **kwargs):
        # google_gmail passes its own timeout in kwargs
        return requests.post(self.urls.get(url, url), *args, **kwargs)  # pylint: disable=external-request-timeout


@tagged("post_install", "-at_install")
class TestOAuth(ComunikMailCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = get_oauth_provider()
        cls.provider.register_client("comunik-google", "google-secret")
        cls.provider.register_client("comunik-microsoft", "microsoft-secret")
        Config = cls.env["ir.config_parameter"].sudo()
        for key, value in {
            "google_gmail_client_id": "comunik-google",
            "google_gmail_client_secret": "google-secret",
            "microsoft_outlook_client_id": "comunik-microsoft",
            "microsoft_outlook_client_secret": "microsoft-secret",
            "microsoft_outlook.endpoint": cls.provider.microsoft_endpoint,
        }.items():
            Config.set_param(key, value)

    def setUp(self):
        super().setUp()
        self.patch(google_gmail_mixin, "requests", _GoogleEndpoints(self.provider))
        self.send_for_real()

    # ------------------------------------------------------------------ helpers

    def oauth_box(self, provider, user, **values):
        """A box whose Dovecot password nobody knows: only the provider's tokens open it."""
        login = f"oauth-{uuid.uuid4().hex[:10]}@example.test"
        self.dovecot.add_user(login, uuid.uuid4().hex)
        account = (
            self.env["comunik.mail.account"]
            .with_user(user)
            .create(
                {
                    "email": login,
                    "mail_provider": provider,
                    "auth_method": "oauth",
                    "imap_host": HOST,
                    "imap_port": IMAPS_PORT,
                    "smtp_host": HOST,
                    "smtp_port": SMTP_PORT,
                    **values,
                }
            )
        )
        return account

    def sign_in(self, account, user, consent_as=None):
        """Click « Se connecter avec … », consent on the provider's page, come back to Odoo's callback."""
        action = account.with_user(user).action_oauth_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        url = action["url"].replace(GOOGLE_AUTH, self.provider.google_auth_url)
        self.provider.consent_as = consent_as or account.email
        try:
            consent = requests.get(url, allow_redirects=False, timeout=10)
        finally:
            self.provider.consent_as = None
        self.assertEqual(consent.status_code, 302)
        callback = urlsplit(consent.headers["Location"])
        self.authenticate(user.login, user.login)
        return self.url_open(f"{callback.path}?{callback.query}", allow_redirects=False)

    def receive(self, account, subject):
        _message_id, raw = build_email(subject, to=account.email)
        self.dovecot.append(account.email, raw)

    def conversations(self, account):
        return self.env["comunik.mail.conversation"].search([("account_id", "=", account.id)])

    def reply_and_capture(self, account, user):
        conversation = self.conversations(account)[:1]
        count = len(self.smtp.messages)
        message = conversation.with_user(user).message_post(
            body="<p>Réponse envoyée avec OAuth.</p>",
            partner_ids=conversation.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        return self.smtp.wait_for(count + 1)[-1]

    # ------------------------------------------------------------------ Google

    def test_google_box_signs_in_syncs_and_replies(self):
        box = self.oauth_box("gmail", self.owner)
        imap, smtp = box.sudo().fetchmail_server_id, box.sudo().mail_server_id
        self.assertEqual((imap.server_type, imap.is_ssl, imap.password), ("gmail", True, False))
        self.assertEqual((smtp.smtp_authentication, smtp.smtp_encryption, smtp.smtp_pass), ("gmail", "starttls", False))
        self.assertFalse(box.with_user(self.owner).oauth_connected)

        response = self.sign_in(box, self.owner)
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(
            response.headers["Location"].endswith(f"/action-comunik_mail.action_comunik_mail_account/{box.id}")
        )
        box.invalidate_recordset()
        self.assertTrue(box.with_user(self.owner).oauth_connected)
        self.assertTrue(imap.google_gmail_refresh_token)
        self.assertEqual(smtp.google_gmail_refresh_token, imap.google_gmail_refresh_token, "one consent, both servers")
        self.assertIn("Google", box.message_ids[0].body)

        # Users never read tokens: not through the box, not on the servers.
        with self.assertRaises(AccessError):
            imap.with_user(self.owner).read(["google_gmail_refresh_token"])
        self.assertNotIn("google_gmail_refresh_token", box.with_user(self.owner).read()[0])

        # The connection test and the sync log in with XOAUTH2 (Dovecot knows no usable password).
        box.with_user(self.owner).action_test_connection()
        self.assertEqual(box.validity_state, "valid", box.validity_message)
        self.receive(box, "Commande via Gmail")
        result = box.with_user(self.owner).sync_now()[0]
        self.assertEqual((result["state"], result["new"]), ("ok", 1), result)

        captured = self.reply_and_capture(box, self.owner)
        self.assertEqual((captured["auth_login"], captured["auth_mechanism"]), (box.email, "XOAUTH2"))
        self.assertEqual(captured["port"], SMTP_PORT)
        email = message_from_bytes(captured["data"], policy=email_policy.default)
        self.assertIn(box.email, email["From"])

    def test_expired_access_token_is_refreshed_before_connecting(self):
        box = self.oauth_box("gmail", self.owner)
        self.sign_in(box, self.owner)
        imap = box.sudo().fetchmail_server_id
        old_token = imap.google_gmail_access_token
        self.provider.expire_access_tokens(box.email)
        imap.google_gmail_access_token_expiration = 1  # its hour has passed
        refreshes = len(self.provider.token_requests)
        self.receive(box, "Après expiration")
        result = box.sudo()._sync()
        self.assertEqual((result["state"], result["new"]), ("ok", 1), result)
        self.assertEqual(self.provider.token_requests[refreshes:], [("google", "refresh_token")])
        imap.invalidate_recordset()
        self.assertNotEqual(imap.google_gmail_access_token, old_token)

    def test_revoked_sign_in_fails_in_french_and_other_boxes_keep_syncing(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.owner.lang = "fr_FR"  # the account's messages are in its owner's language
        box = self.oauth_box("gmail", self.owner)
        self.sign_in(box, self.owner)
        other = self.create_account()
        self.receive(box, "Perdu ?")
        self.receive(other, "Toujours là")
        for account in (box, other):
            account.sudo().write({"sync_enabled": True})
        self.provider.revoke(box.email)
        box.sudo().fetchmail_server_id.google_gmail_access_token_expiration = 1

        self.env["comunik.mail.account"].with_context(lang="fr_FR")._cron_sync(time_budget=60)
        box.invalidate_recordset()
        self.assertEqual(box.sync_state, "error")
        self.assertIn("reconnectez le compte avec « Se connecter avec Google »", box.sync_error_message)
        self.assertTrue(box.sync_retry_date, "refused sign-in backs off like a refused password")
        self.assertEqual(other.sync_state, "ok")
        self.assertEqual(len(self.conversations(other)), 1)
        self.assertFalse(self.conversations(box))

        box.with_user(self.owner).action_test_connection()
        self.assertEqual(box.validity_state, "invalid")
        self.assertIn("« Se connecter avec Google »", box.validity_message)

        self.sign_in(box, self.owner)  # reconnecting fixes it at once
        box.invalidate_recordset()
        self.assertFalse(box.sync_retry_date)
        self.assertEqual(box.sudo()._sync()["new"], 1)

    # ------------------------------------------------------------------ Microsoft

    def test_microsoft_shared_box_signed_in_by_an_admin(self):
        box = self.oauth_box("microsoft", self.admin, category="shared", department_ids=[(6, 0, self.department.ids)])
        self.assertEqual(box.sudo().fetchmail_server_id.server_type, "outlook")
        self.assertEqual(box.sudo().mail_server_id.smtp_authentication, "outlook")
        with self.assertRaises(AccessError):
            box.with_user(self.member).action_oauth_connect()

        self.sign_in(box, self.admin)
        scopes = self.provider.last_authorize_params["scope"].split()
        self.assertIn("https://outlook.office.com/IMAP.AccessAsUser.All", scopes)
        self.assertIn("https://outlook.office.com/SMTP.Send", scopes, "one consent covers receiving and sending")
        imap, smtp = box.sudo().fetchmail_server_id, box.sudo().mail_server_id
        self.assertTrue(imap.microsoft_outlook_refresh_token)
        self.assertEqual(smtp.microsoft_outlook_refresh_token, imap.microsoft_outlook_refresh_token)
        self.assertFalse(smtp.microsoft_outlook_access_token, "SMTP gets its own token for its scope")

        self.receive(box, "Demande de devis Microsoft")
        self.assertEqual(box.sudo()._sync()["new"], 1)
        captured = self.reply_and_capture(box, self.admin)
        self.assertEqual((captured["auth_login"], captured["auth_mechanism"]), (box.email, "XOAUTH2"))
        smtp.invalidate_recordset()
        self.assertTrue(smtp.microsoft_outlook_access_token)

        # Expired: Microsoft's refresh rotates the refresh token; still works.
        self.provider.expire_access_tokens(box.email)
        imap.microsoft_outlook_access_token_expiration = 1
        rotated_from = imap.microsoft_outlook_refresh_token
        self.receive(box, "Relance")
        self.assertEqual(box.sudo()._sync()["new"], 1)
        imap.invalidate_recordset()
        self.assertNotEqual(imap.microsoft_outlook_refresh_token, rotated_from)

    # ------------------------------------------------------------------ rights and setup

    def test_only_a_manager_of_the_box_completes_its_sign_in(self):
        box = self.oauth_box("gmail", self.owner)
        action = box.with_user(self.owner).action_oauth_connect()
        url = action["url"].replace(GOOGLE_AUTH, self.provider.google_auth_url)
        self.provider.consent_as = box.email
        try:
            callback = urlsplit(requests.get(url, allow_redirects=False, timeout=10).headers["Location"])
        finally:
            self.provider.consent_as = None
        self.authenticate(self.other.login, self.other.login)  # the link reached someone else
        response = self.url_open(f"{callback.path}?{callback.query}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(box.sudo().fetchmail_server_id.google_gmail_refresh_token)
        with self.assertRaises(AccessError):
            box.with_user(self.other).action_oauth_connect()

    def test_sign_in_needs_the_oauth_application_and_provider(self):
        box = self.oauth_box("gmail", self.owner)
        self.env["ir.config_parameter"].sudo().set_param("google_gmail_client_secret", "")
        with self.assertRaisesRegex(UserError, "Paramètres généraux"):
            box.with_user(self.owner).with_context(lang="fr_FR").action_oauth_connect()
        password_box = self.create_account(user=self.owner)
        with self.assertRaises(UserError):
            password_box.with_user(self.owner).action_oauth_connect()
        self.assertFalse(box.with_user(self.owner).oauth_connected)

    def test_presets_choose_the_sign_in(self):
        Account = self.env["comunik.mail.account"].with_user(self.owner)
        form = Account.new({"email": "jean@outlook.fr"})
        form._onchange_email()
        self.assertEqual((form.mail_provider, form.auth_method), ("microsoft", "oauth"))
        self.assertEqual((form.imap_encryption, form.smtp_encryption, form.smtp_port), ("ssl", "starttls", 587))
        form = Account.new({"email": "jean@gmail.com"})
        form._onchange_email()
        self.assertEqual((form.mail_provider, form.auth_method), ("gmail", "oauth"), "Google app registered")
        form = Account.new({"email": "jean@orange.fr"})
        form._onchange_email()
        self.assertEqual(form.auth_method, "password")
        # Back to a password: the grant is dropped from both servers.
        box = self.oauth_box("gmail", self.owner)
        self.sign_in(box, self.owner)
        box.with_user(self.owner).write({"auth_method": "password", "imap_password": "app-password"})
        self.assertFalse(box.sudo().fetchmail_server_id.google_gmail_refresh_token)
        self.assertFalse(box.sudo().mail_server_id.google_gmail_refresh_token)
        self.assertEqual(box.sudo().fetchmail_server_id.server_type, "imap")
