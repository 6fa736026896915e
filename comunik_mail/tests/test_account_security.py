from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComunikMailCase


@tagged("post_install", "-at_install")
class TestAccountSecurity(ComunikMailCase):
    """Access rules checked as the users themselves (never as superuser)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.personal = cls.create_account(user=cls.owner)
        cls.shared = cls.create_shared_account()
        cls.Account = cls.env["comunik.mail.account"]

    def visible(self, user):
        return self.Account.with_user(user).search([("id", "in", (self.personal | self.shared).ids)])

    def test_visibility(self):
        self.assertEqual(self.visible(self.owner), self.personal)
        self.assertEqual(self.visible(self.other), self.Account)
        self.assertEqual(self.visible(self.dispatcher), self.shared)
        self.assertEqual(self.visible(self.member), self.shared)
        self.assertEqual(self.visible(self.admin), self.personal | self.shared)
        with self.assertRaises(AccessError):
            self.personal.with_user(self.other).read(["email"])

    def test_passwords_over_rpc(self):
        fields = ["imap_password", "smtp_password"]
        own = self.personal.with_user(self.owner).read(fields)[0]
        self.assertTrue(own["imap_password"])
        for user in (self.dispatcher, self.member):
            values = self.shared.with_user(user).read(fields + ["email"])[0]
            self.assertEqual(values["email"], self.shared.email)
            self.assertFalse(values["imap_password"], user.login)
            self.assertFalse(values["smtp_password"], user.login)
        admin = self.shared.with_user(self.admin).read(fields)[0]
        self.assertTrue(admin["imap_password"])
        self.assertTrue(self.personal.with_user(self.admin).read(fields)[0]["imap_password"])

    def test_backing_servers_not_readable_by_users(self):
        for user in (self.owner, self.dispatcher, self.member):
            with self.assertRaises(AccessError):
                self.personal.fetchmail_server_id.with_user(user).read(["password"])
            with self.assertRaises(AccessError):
                self.shared.mail_server_id.with_user(user).read(["smtp_host"])

    def test_owner_edits_personal_box_including_password(self):
        account = self.personal.with_user(self.owner)
        account.write({"imap_password": "n3w-pass", "sync_period": "week"})
        self.assertEqual(self.personal.fetchmail_server_id.sudo().password, "n3w-pass")
        self.assertEqual(self.personal.mail_server_id.sudo().smtp_pass, "n3w-pass")
        with self.assertRaises(AccessError):
            account.write({"category": "shared"})
        with self.assertRaises(AccessError):
            self.personal.with_user(self.other).write({"imap_password": "stolen"})

    def test_shared_box_editable_by_admins_only(self):
        for user in (self.dispatcher, self.member, self.owner):
            with self.assertRaises(AccessError):
                self.shared.with_user(user).write({"imap_password": "stolen"})
            with self.assertRaises(AccessError):
                self.shared.with_user(user).write({"sync_period": "week"})
        self.shared.with_user(self.admin).write({"sync_period": "week", "imap_password": "admin-set"})
        self.assertEqual(self.shared.fetchmail_server_id.sudo().password, "admin-set")

    def test_users_create_only_their_own_personal_box(self):
        login, password = self.make_mailbox()
        mine = self.Account.with_user(self.other).create(self.account_values(login, password))
        self.assertEqual(mine.owner_id, self.other)
        with self.assertRaises(AccessError):
            self.Account.with_user(self.other).create(self.account_values(login + ".x", password, category="shared"))
        with self.assertRaises(AccessError):
            self.Account.with_user(self.other).create(
                self.account_values(login + ".y", password, owner_id=self.owner.id)
            )

    def test_department_membership_change_applies(self):
        self.assertFalse(self.visible(self.other))
        self.env["hr.employee"].create(
            {"name": self.other.name, "user_id": self.other.id, "department_id": self.department.id}
        )
        self.assertEqual(self.visible(self.other), self.shared)
