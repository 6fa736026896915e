from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestAssignmentTour(HttpCase):
    """In French, an Email admin (not a Settings admin) sets the « Mode d'attribution » of a shared box and the
    capacity of one of its members, through the account form."""

    def test_admin_sets_assignment_mode_and_capacity(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        admin = new_test_user(
            self.env,
            "cmk_assign_tour_admin",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle Admin",
        )
        self.assertFalse(admin.has_group("base.group_system"))
        member = new_test_user(
            self.env,
            "cmk_assign_tour_member",
            groups="base.group_user,comunik_mail.group_comunik_mail_user",
            lang="fr_FR",
            name="Julie Martin",
        )
        department = self.env["hr.department"].create({"name": "Support client"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "attribution-tour@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        self.assertEqual(account.assign_mode, "manual", "manual stays the default")
        self.start_tour("/odoo", "comunik_mail_assignment_tour", login="cmk_assign_tour_admin")
        account.invalidate_recordset()
        self.assertEqual(account.assign_mode, "round_robin")
        self.assertEqual(account.assign_member_ids.user_id, member)
        self.assertEqual(account.assign_member_ids.capacity, 4)
