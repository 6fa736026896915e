from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComunikMailCase


@tagged("post_install", "-at_install")
class TestPrimaryAccount(ComunikMailCase):
    """At most one primary box per user; choosing another unsets the previous one."""

    def test_choosing_another_unsets_previous(self):
        first = self.create_account(user=self.owner)
        second = self.create_account(user=self.owner)
        accounts = (first | second).with_user(self.owner)
        accounts[0].action_set_primary()
        self.assertEqual(accounts.filtered("is_primary"), accounts[0])
        accounts[1].action_set_primary()
        self.assertEqual(accounts.filtered("is_primary"), accounts[1])
        self.assertEqual(
            self.env["comunik.mail.account"].with_user(self.owner).search([("is_primary", "=", True)]), second
        )
        self.assertEqual(self.owner.comunik_primary_account_id, second)

    def test_primary_is_per_user(self):
        shared = self.create_account(category="shared", dispatcher_ids=[(6, 0, [self.dispatcher.id])])
        personal = self.create_account(user=self.dispatcher)
        shared.with_user(self.dispatcher).action_set_primary()
        personal.with_user(self.admin).action_set_primary()
        self.assertTrue(shared.with_user(self.dispatcher).is_primary)
        self.assertFalse(personal.with_user(self.dispatcher).is_primary)
        self.assertTrue(personal.with_user(self.admin).is_primary)
        self.assertFalse(shared.with_user(self.admin).is_primary)

    def test_cannot_choose_an_invisible_box(self):
        hidden = self.create_account(user=self.owner)
        with self.assertRaises(AccessError):
            hidden.with_user(self.other).action_set_primary()
        self.assertFalse(self.other.comunik_primary_account_id)
