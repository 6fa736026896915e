from odoo.tests import HttpCase, new_test_user, tagged

from .common import HOST, IMAPS_PORT, SMTPS_PORT, use_real_servers
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestBannerTour(HttpCase):
    """In French: configure the banner, see the counters follow new mail live, click one to filter."""

    def test_banner(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        dovecot, smtp = use_real_servers()
        login, password = "support-banner-tour@example.test", "S3cret-pass"
        dovecot.add_user(login, password)
        smtp.add_user(login, password)
        admin = new_test_user(
            self.env,
            "cmk_tour_banner",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle Admin",
        )
        department = self.env["hr.department"].create({"name": "Support bandeau"})
        self.env["hr.employee"].create({"name": admin.name, "user_id": admin.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": login,
                "category": "shared",
                "imap_host": HOST,
                "imap_port": IMAPS_PORT,
                "imap_user": login,
                "imap_password": password,
                "smtp_host": HOST,
                "smtp_port": SMTPS_PORT,
                "department_ids": [(6, 0, department.ids)],
            }
        )
        Conversation = self.env["comunik.mail.conversation"]
        Conversation.create([{"account_id": account.id, "subject": f"Demande {i}"} for i in range(3)])
        busy = Conversation.create([{"account_id": account.id, "subject": f"Suivi {i}"} for i in range(2)])
        busy.sudo().write({"state": "in_progress", "user_id": admin.id})
        waiting = Conversation.create({"account_id": account.id, "subject": "Relance"})
        waiting.sudo().write({"state": "to_process", "user_id": admin.id})
        dovecot.append(login, build_email("Nouvelle demande de devis", to=login)[1])

        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_banner_tour",
            login="cmk_tour_banner",
        )
        config = self.env["comunik.mail.banner.config"].search([("user_id", "=", admin.id)])
        self.assertTrue(config.show_to_process)
        self.assertFalse(config.show_assigned)
        self.assertEqual(Conversation.search_count([("account_id", "=", account.id)]), 7)
