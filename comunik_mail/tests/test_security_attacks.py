from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.comunik_mail_account import LOGIN_BACKOFF_FIRST
from ..services import connection
from .common import ComunikSyncCase


@tagged("post_install", "-at_install")
class TestSecurityAttacks(ComunikSyncCase):
    """The attacks found from outside (issue « Security »), each replayed as a plain Email user:
    every one must be refused, in French, and change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.personal = cls.create_account(user=cls.owner)
        cls.shared = cls.create_shared_account()
        cls.other_box = cls.create_account(user=cls.other)
        cls.Account = cls.env["comunik.mail.account"]
        cls.Conversation = cls.env["comunik.mail.conversation"]

    def assertRefusedInFrench(self, call, error=AccessError):
        with self.assertRaises(error) as caught:
            call()
        message = str(caught.exception)
        self.assertRegex(message, r"[àâéèêîôùç]|Vous|Seuls|Utilisez|impossible|Trop", f"not French: {message}")
        return message

    def french(self, record):
        return record.with_context(lang="fr_FR")

    def test_1_backing_server_links_are_not_writable(self):
        mine = self.french(self.personal.with_user(self.owner))
        before = (self.personal.fetchmail_server_id, self.personal.mail_server_id)
        for field, value in (
            ("fetchmail_server_id", self.shared.fetchmail_server_id.id),
            ("mail_server_id", self.shared.mail_server_id.id),
        ):
            self.assertRefusedInFrench(lambda field=field, value=value: mine.write({field: value}))
        self.personal.invalidate_recordset()
        self.assertEqual((self.personal.fetchmail_server_id, self.personal.mail_server_id), before)
        # Not at creation either (nor through a default_ context key).
        login, password = self.make_mailbox()
        values = self.account_values(login, password, fetchmail_server_id=self.shared.fetchmail_server_id.id)
        self.assertRefusedInFrench(lambda: self.french(self.Account.with_user(self.other)).create(values))
        context_default = self.Account.with_user(self.other).with_context(
            lang="fr_FR", default_mail_server_id=self.shared.mail_server_id.id
        )
        self.assertRefusedInFrench(lambda: context_default.create(self.account_values(login, password)))
        # The shared box still has its own password, its servers still exist.
        self.assertEqual(self.shared.fetchmail_server_id.sudo().password, "S3cret-pass")

    def test_2_onchange_never_returns_foreign_passwords(self):
        spec = {name: {} for name in ("imap_password", "smtp_password", "imap_user", "imap_host", "smtp_user")}
        values = {
            "email": "pirate@example.test",
            "category": "personal",
            "fetchmail_server_id": self.shared.fetchmail_server_id.id,
            "mail_server_id": self.shared.mail_server_id.id,
        }
        result = self.Account.with_user(self.other).onchange(values, ["fetchmail_server_id"], spec)
        returned = result.get("value", {})
        for name in ("imap_password", "smtp_password", "imap_host", "smtp_user"):
            self.assertFalse(returned.get(name), f"{name} leaked: {returned.get(name)}")
        # On an existing box the user may not read: refused.
        with self.assertRaises(AccessError):
            self.shared.with_user(self.other).onchange({"email": self.shared.email}, ["email"], spec)
        # A member reading the shared box sees no connection settings.
        data = self.shared.with_user(self.member).read(list(spec) + ["smtp_host", "smtp_password"])[0]
        for name in spec:
            self.assertFalse(data[name], name)

    def test_3_servers_of_personal_boxes_are_never_chosen_automatically(self):
        company_address = "contact@company-hijack.example"
        login, password = self.make_mailbox()
        values = self.account_values(login, password, email=company_address)
        pirate = self.Account.with_user(self.other).create(values)
        server = pirate.sudo().mail_server_id
        self.assertTrue(server.comunik_private)
        chosen, _from = self.env["ir.mail_server"].sudo()._find_mail_server(company_address)
        self.assertNotEqual(chosen, server, "Odoo must not route the company's mail through a user's server")
        mail = self.env["mail.mail"].sudo().create({"email_from": company_address, "email_to": "x@example.test"})
        self.assertNotIn(server, mail._filter_mail_mail_servers(self.env["ir.mail_server"].sudo().search([])))
        # Only shared boxes configured by a Settings admin stay public.
        self.assertTrue(self.shared.sudo().mail_server_id.comunik_private, "created by an Email admin")
        system_box = self.create_account(user=self.env.ref("base.user_admin"), category="shared")
        self.assertFalse(system_box.sudo().mail_server_id.comunik_private)

    def test_4_connection_test_only_on_managed_boxes(self):
        for user, account in ((self.other, self.shared), (self.member, self.shared), (self.other, self.personal)):
            before = account.read(["validity_state", "validity_date"])
            self.assertRefusedInFrench(
                lambda user=user, account=account: self.french(account.with_user(user)).action_test_connection()
            )
            self.assertEqual(account.read(["validity_state", "validity_date"]), before)
        # The unsaved form of someone else's box: refused too.
        form_values = {"email": self.shared.email, "connection_test_count": 1}
        with self.assertRaises(AccessError):
            self.shared.with_user(self.member).onchange(
                form_values, ["connection_test_count"], {"connection_test_count": {}}
            )

    def test_4_private_hosts_refused_for_non_admins(self):
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.allowed_private_hosts", "")
        login, password = self.make_mailbox()
        values = self.account_values(login, password)
        message = self.assertRefusedInFrench(
            lambda: self.french(self.Account.with_user(self.other)).create(values), UserError
        )
        self.assertIn("127.0.0.1", message)
        mine = self.french(self.personal.with_user(self.owner))
        self.assertRefusedInFrench(lambda: mine.write({"smtp_host": "10.1.2.3"}), UserError)
        self.assertRefusedInFrench(lambda: mine.write({"imap_host": "localhost"}), UserError)
        # Admins may; and an allowed network opens it to users.
        self.shared.with_user(self.admin).write({"imap_host": "10.1.2.3"})
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.allowed_private_hosts", "10.0.0.0/8")
        mine.write({"smtp_host": "10.1.2.3"})
        self.assertEqual(self.personal.with_user(self.owner).smtp_host, "10.1.2.3")

    def test_4_connection_tests_are_rate_limited_and_logged(self):
        account = self.french(self.personal.with_user(self.owner))
        with (
            patch.object(connection, "check_imap", return_value=connection.CheckResult(connection.OK)),
            patch.object(connection, "check_smtp", return_value=connection.CheckResult(connection.OK)),
        ):
            for _attempt in range(10):
                account.action_test_connection()
            self.assertRefusedInFrench(account.action_test_connection, UserError)
        logs = self.env["comunik.mail.connection.log"].search([("user_id", "=", self.owner.id)])
        self.assertEqual(len(logs), 20)
        self.assertEqual(set(logs.mapped("host")), {"127.0.0.1"})
        self.assertEqual(set(logs.mapped("protocol")), {"IMAP", "SMTP"})
        with self.assertRaises(AccessError):
            logs.with_user(self.owner).read(["host"])

    def test_5_labels_applied_by_admins_only(self):
        label = self.env["comunik.mail.label"].create({"name": "Pirate", "recipient_emails": self.personal.email})
        self.assertRefusedInFrench(lambda: self.french(label.with_user(self.member)).action_apply_to_existing())
        label.with_user(self.admin).action_apply_to_existing()

    def _conversation(self, account):
        return self.Conversation.sudo().create({"account_id": account.id, "subject": "Demande"})

    def test_6_conversations_cannot_be_moved_or_rewritten(self):
        conversation = self._conversation(self.shared)
        as_member = self.french(conversation.with_user(self.member))
        for values in (
            {"account_id": self.personal.id},
            {"active": False},
            {"lead_id": self.env["crm.lead"].sudo().create({"name": "x"}).id},
            {"subject": "changed"},
            {"state": "closed"},
            {"is_new": False},
        ):
            self.assertRefusedInFrench(lambda values=values: as_member.write(values))
        self.assertEqual(conversation.account_id, self.shared)
        self.assertTrue(conversation.active)
        label = self.env["comunik.mail.label"].create({"name": "Urgent client"})
        as_member.write({"label_ids": [(4, label.id)]})
        self.assertEqual(conversation.label_ids, label)

    def test_7_mark_read_needs_access(self):
        conversation = self._conversation(self.personal)
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).action_mark_read()
        self.assertTrue(conversation.is_new)

    def test_8_small_leaks(self):
        values = self.shared.with_user(self.member).read(["smtp_user", "imap_user"])[0]
        self.assertFalse(values["smtp_user"])
        self.assertFalse(values["imap_user"])
        self.personal.with_user(self.owner).action_set_primary()
        with self.assertRaises(AccessError):
            self.owner.with_user(self.other).read(["comunik_primary_account_id"])
        self.assertTrue(self.personal.with_user(self.owner).is_primary)

    def test_sync_fields_of_messages_are_not_user_values(self):
        conversation = self._conversation(self.shared)
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).message_post(
                body="x", message_type="comment", comunik_account_id=self.other_box.id, message_id="<a@b>"
            )
        note = conversation.with_user(self.member).message_post(body="note", subtype_xmlid="mail.mt_note")
        with self.assertRaises(AccessError):
            note.with_user(self.member).write({"comunik_account_id": self.other_box.id})

    def test_owner_and_email_admin_edit_connection_settings(self):
        """The usability bug of the same root cause: both could not edit host or port."""
        self.personal.with_user(self.owner).write({"imap_host": "localhost", "imap_port": 1993, "smtp_port": 2465})
        self.assertEqual(self.personal.fetchmail_server_id.sudo().server, "localhost")
        self.assertEqual(self.personal.fetchmail_server_id.sudo().port, 1993)
        self.assertEqual(self.personal.mail_server_id.sudo().smtp_port, 2465)
        self.assertFalse(self.admin.has_group("base.group_system"))
        self.shared.with_user(self.admin).write({"smtp_host": "localhost", "smtp_user": "x", "imap_port": 1143})
        self.assertEqual(self.shared.mail_server_id.sudo().smtp_host, "localhost")
        self.assertEqual(self.shared.fetchmail_server_id.sudo().port, 1143)

    def test_refused_login_backs_off(self):
        account = self.personal.sudo()
        account.sync_enabled = True
        account.imap_password = "wrong"
        account._sync()
        self.assertEqual(account.sync_auth_failure_count, 1)
        self.assertTrue(account.sync_retry_date)
        first_wait = account.sync_retry_date - account.sync_error_date
        self.assertAlmostEqual(first_wait.total_seconds(), LOGIN_BACKOFF_FIRST.total_seconds(), delta=5)
        account._sync()
        second_wait = account.sync_retry_date - account.sync_error_date
        self.assertAlmostEqual(second_wait.total_seconds(), 2 * LOGIN_BACKOFF_FIRST.total_seconds(), delta=5)
        # The cron leaves it alone until then...
        with patch.object(type(self.Account), "_sync", autospec=True) as sync:
            self.Account._cron_sync()
        self.assertNotIn(account.id, [call.args[0].id for call in sync.call_args_list])
        # ... and a new password retries at once.
        self.personal.with_user(self.owner).write({"imap_password": "S3cret-pass"})
        self.assertFalse(account.sync_retry_date)
        self.assertEqual(account.sync_auth_failure_count, 0)

    def test_sync_of_a_users_box_honours_the_host_policy(self):
        """Checked again at each sync: a host name repointed to a private address later is refused too."""
        account = self.personal.sudo()
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.allowed_private_hosts", "")
        self.owner.lang = "fr_FR"
        result = account._sync()
        self.assertEqual(result["state"], "error")
        self.assertIn("réseau privé", result["error"])
        self.assertFalse(account.conversation_ids)
        # An admin's box (or once the admin allows the host) syncs.
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.allowed_private_hosts", "127.0.0.1")
        self.assertEqual(account._sync()["state"], "ok")
