from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestDispatchTour(HttpCase):
    """In French, a dispatcher assigns a new email to a member: the badge goes, the status changes."""

    def test_dispatcher_assigns_a_new_email(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        dispatcher = new_test_user(
            self.env, "cmk_tour_dispatcher", groups=groups, lang="fr_FR", name="Denis Dispatcheur"
        )
        member = new_test_user(self.env, "cmk_tour_member", groups=groups, lang="fr_FR", name="Mélanie Membre")
        department = self.env["hr.department"].create({"name": "Support client"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-dispatch@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
                "dispatcher_ids": [(6, 0, dispatcher.ids)],
            }
        )
        conversation = self.env["comunik.mail.conversation"].create(
            {"account_id": account.id, "subject": "Panne de l'imprimante d'étiquettes"}
        )
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_dispatch_tour",
            login="cmk_tour_dispatcher",
        )
        self.assertEqual(conversation.state, "assigned")
        self.assertEqual(conversation.user_id, member)
        self.assertEqual(conversation.priority, "1")
        self.assertFalse(conversation.is_new)
