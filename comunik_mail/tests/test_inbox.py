from odoo import sql_db
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComunikMailCase

LIST_SPEC = {
    "is_new": {},
    "date_last": {},
    "partner_id": {"fields": {"display_name": {}}},
    "subject": {},
    "message_count": {},
    "account_id": {"fields": {"display_name": {}}},
    "user_id": {"fields": {"display_name": {}}},
    "priority": {},
    "deadline": {},
    "is_overdue": {},
    "state": {},
}


@tagged("post_install", "-at_install")
class TestInbox(ComunikMailCase):
    """Who sees which inbox, the « Nouveau » badge, the landing inbox, and a flat query cost."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared = cls.create_account(
            category="shared", department_ids=[(6, 0, cls.department.ids)], dispatcher_ids=[(6, 0, cls.dispatcher.ids)]
        )
        cls.other_shared = cls.create_account(category="shared")
        cls.personal = cls.create_account(user=cls.owner)
        cls.Conversation = cls.env["comunik.mail.conversation"]

    def make(self, account, count, prefix="Sujet"):
        partner = self.env["res.partner"].create({"name": "Client", "email": "client@client-dupont.example"})
        return self.Conversation.create(
            [
                {"account_id": account.id, "subject": f"{prefix} {index}", "partner_id": partner.id}
                for index in range(count)
            ]
        )

    def test_members_see_their_departments_inboxes_owners_their_own(self):
        shared = self.make(self.shared, 2)
        elsewhere = self.make(self.other_shared, 2)
        personal = self.make(self.personal, 2)
        everything = shared | elsewhere | personal

        def visible(user):
            return self.Conversation.with_user(user).search([("id", "in", everything.ids)])

        self.assertEqual(visible(self.member), shared)
        self.assertEqual(visible(self.dispatcher), shared)
        self.assertEqual(visible(self.owner), personal)
        self.assertEqual(visible(self.other), self.Conversation)
        self.assertEqual(visible(self.admin), everything)
        with self.assertRaises(AccessError):
            personal[0].with_user(self.member).read(["subject"])
        with self.assertRaises(AccessError):
            shared[0].with_user(self.other).read(["subject"])

    def test_new_badge_goes_when_opened_and_internal_read_state_unchanged(self):
        conversation = self.make(self.shared, 1)
        self.assertTrue(conversation.is_new)
        listed = conversation.with_user(self.member).web_search_read([("id", "=", conversation.id)], LIST_SPEC)
        self.assertTrue(listed["records"][0]["is_new"], "listing does not remove the badge")
        opened = conversation.with_user(self.member).web_read({"is_new": {}, "subject": {}})
        self.assertFalse(opened[0]["is_new"])
        self.assertFalse(conversation.is_new)

    def test_landing_on_primary_account(self):
        self.shared.with_user(self.member).action_set_primary()
        action = self.Conversation.with_user(self.member).action_open_inbox()
        self.assertEqual(action["res_model"], "comunik.mail.conversation")
        # (comunik_hide_snoozed: the inbox hides snoozed conversations, see test_snooze)
        self.assertEqual(action["context"], {"search_default_account_id": self.shared.id, "comunik_hide_snoozed": True})
        self.assertNotIn("search_default_account_id", str(self.Conversation.with_user(self.other).action_open_inbox()))

    def test_inbox_query_count_does_not_grow_with_size(self):
        def queries_for(count):
            account = self.create_account(category="shared", department_ids=[(6, 0, self.department.ids)])
            self.make(account, count)
            self.env.invalidate_all()
            model = self.Conversation.with_user(self.member)
            before = sql_db.sql_counter
            # A full page either way (limit = size), as the web client asks for it.
            result = model.web_search_read([("account_id", "=", account.id)], LIST_SPEC, limit=count)
            self.assertEqual(result["length"], count)
            return sql_db.sql_counter - before

        queries_for(3)  # warm the registry caches (access rules, field metadata) once
        self.assertEqual(queries_for(10), queries_for(80))

    def test_kanban_and_body_search(self):
        conversation = self.make(self.shared, 1)
        conversation.message_post(body="La référence CMD-77731 est introuvable", message_type="comment")
        arch = self.Conversation.with_user(self.member).get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn("comunik_new_badge", arch)
        search_arch = self.Conversation.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn("message_ids.body", search_arch)
        found = self.Conversation.with_user(self.member).search([("message_ids.body", "ilike", "CMD-77731")])
        self.assertEqual(found, conversation)
