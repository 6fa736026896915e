from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.comunik_mail_conversation import QUIET_CONTEXT


@tagged("post_install", "-at_install")
class TestStatisticsTour(HttpCase):
    """In French, the web client's pivot and graph ask the ``median`` aggregator and show it (end to end)."""

    def test_pivot_and_graph_show_medians(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        member = new_test_user(self.env, "cmk_tour_stats", groups=groups, lang="fr_FR", name="Mélanie Membre")
        department = self.env["hr.department"].create({"name": "Support statistiques"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-stats-tour@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        # Received within the current year (the default period), answered later.
        received = max(
            fields.Datetime.now() - timedelta(hours=1),
            fields.Datetime.now().replace(month=1, day=1, hour=0, minute=0, second=0),
        )
        self.env["comunik.mail.conversation"].with_context(**QUIET_CONTEXT).create(
            [
                {
                    "account_id": account.id,
                    "subject": f"Question {hours}",
                    "date_first": received,
                    "state": "assigned",
                    "user_id": member.id,
                    "first_response_date": received + timedelta(hours=hours),
                }
                for hours in (1.25, 2.5, 7)
            ]
        )
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_statistics",
            "comunik_mail_statistics_tour",
            login="cmk_tour_stats",
        )
