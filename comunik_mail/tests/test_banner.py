import json
from datetime import datetime, timedelta

from odoo.tests import new_test_user, tagged

from .common import ComunikMailCase

NOW = datetime(2026, 11, 26, 12, 0)


@tagged("post_install", "-at_install")
class TestBanner(ComunikMailCase):
    """Banner counters: one per status, chosen per user, counted only on what the user may see, live."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["comunik.mail.account"]
        base = {"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1"}
        cls.support = Account.create(
            {
                **base,
                "email": "support-banner@example.test",
                "category": "shared",
                "department_ids": [(6, 0, cls.department.ids)],
                "dispatcher_ids": [(6, 0, cls.dispatcher.ids)],
            }
        )
        cls.sales_department = cls.env["hr.department"].create({"name": "Ventes"})
        cls.seller = new_test_user(
            cls.env, "cmk_seller", groups="base.group_user,comunik_mail.group_comunik_mail_user", name="Sam Vendeur"
        )
        cls.env["hr.employee"].create(
            {"name": cls.seller.name, "user_id": cls.seller.id, "department_id": cls.sales_department.id}
        )
        cls.sales = Account.create(
            {
                **base,
                "email": "ventes-banner@example.test",
                "category": "shared",
                "department_ids": [(6, 0, cls.sales_department.ids)],
            }
        )
        cls.personal = Account.create(
            {**base, "email": "perso-banner@example.test", "category": "personal", "owner_id": cls.member.id}
        )
        cls.make(cls.support, "unassigned", count=3, new=True)
        cls.make(cls.support, "assigned", count=2, user=cls.member)
        cls.make(cls.support, "in_progress", count=4, user=cls.member)
        cls.make(cls.support, "to_process", count=1, user=cls.member)
        cls.make(cls.support, "closed", count=5, user=cls.member)
        cls.make(cls.support, "closed", count=1)  # closed without ever being assigned
        cls.make(cls.support, "unassigned", count=2, deadline=NOW - timedelta(hours=1))  # overdue
        cls.make(cls.support, "closed", count=1, user=cls.member, deadline=NOW - timedelta(hours=1))  # not overdue
        cls.make(cls.sales, "unassigned", count=7, new=True)
        cls.make(cls.personal, "unassigned", count=9, new=True)

    @classmethod
    def make(cls, account, state, count, user=None, new=False, deadline=None):
        conversations = cls.env["comunik.mail.conversation"].create(
            [{"account_id": account.id, "subject": f"{state} {index}"} for index in range(count)]
        )
        conversations.sudo().write(
            {"state": state, "user_id": user.id if user else False, "is_new": new, "deadline": deadline}
        )

    def banner(self, user, **show):
        config = self.env["comunik.mail.banner.config"].with_user(user)._for_user()
        if show:
            config.write(show)
        result = config.with_context(comunik_now=NOW).get_banner()
        return {counter["key"]: counter["count"] for counter in result["counters"]}, result

    def test_defaults_are_the_guide_example(self):
        counts, _result = self.banner(self.member)
        self.assertEqual(list(counts), ["unassigned", "assigned", "assigned_closed", "in_progress"])
        search_view = self.env.ref("comunik_mail.view_comunik_mail_conversation_search").arch
        for key in ("unassigned", "assigned", "assigned_closed", "in_progress", "to_process", "overdue", "new"):
            self.assertIn(f'name="{key}"', search_view, "each counter filters the inbox with the filter of its key")

    def test_counts_per_status(self):
        counts, _result = self.banner(self.member, show_to_process=True, show_overdue=True, show_new=True)
        self.assertEqual(
            counts,
            {
                "unassigned": 5,
                "assigned": 2,
                "assigned_closed": 6,
                "in_progress": 4,
                "to_process": 1,
                "overdue": 2,
                "new": 3,
            },
        )

    def test_counts_respect_access(self):
        everything = {"show_to_process": True, "show_overdue": True, "show_new": True}
        member, _r = self.banner(self.member, **everything)
        self.assertEqual(member["new"], 3, "the member's personal box and the sales box are not counted")
        seller, _r = self.banner(self.seller, **everything)
        self.assertEqual((seller["unassigned"], seller["new"], seller["assigned"]), (7, 7, 0))
        admin, _r = self.banner(self.admin, **everything)
        self.assertEqual((admin["unassigned"], admin["new"]), (12, 10))
        dispatcher, _r = self.banner(self.dispatcher, **everything)
        self.assertEqual(dispatcher, member)
        _nobody, result = self.banner(self.other, **everything)
        self.assertEqual(result["counters"], [], "no shared inbox: no banner")

    def test_choice_is_per_user_and_in_french(self):
        self.member.lang = "en_US"
        self.env["res.lang"]._activate_lang("fr_FR")
        self.banner(self.member, show_unassigned=False, show_assigned=False, show_assigned_closed=False)
        counts, _r = self.banner(self.member)
        self.assertEqual(list(counts), ["in_progress"])
        counts, _r = self.banner(self.dispatcher)
        self.assertEqual(len(counts), 4, "another user's choice is untouched")
        config = self.env["comunik.mail.banner.config"].with_user(self.dispatcher)._for_user()
        labels = [c["label"] for c in config.with_context(lang="fr_FR").get_banner()["counters"]]
        self.assertEqual(labels, ["Non assignés", "Assignés", "Assignés clôturés", "Assignés en cours"])
        others = self.env["comunik.mail.banner.config"].with_user(self.member).search([])
        self.assertEqual(others.user_id, self.member, "users only see their own configuration")

    def test_one_query_for_the_counters(self):
        config = self.env["comunik.mail.banner.config"].with_user(self.member)._for_user()
        config.write({"show_to_process": True, "show_overdue": True, "show_new": True})
        config.get_banner()  # warm the caches (rules, groups)
        self.env.invalidate_all()
        with self.assertQueryCount(8):  # config, access checks, and ONE aggregate for all the counters
            config.get_banner()
        self.make(self.support, "unassigned", count=50, new=True)
        self.env.invalidate_all()
        with self.assertQueryCount(8):
            config.get_banner()

    def test_changes_notify_those_who_see_the_box(self):
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.support.id)], limit=1)
        self.env.flush_all()
        self.env.cr.precommit.run()  # what the set-up created
        self.env["bus.bus"].sudo().search([]).unlink()
        conversation.with_user(self.dispatcher).action_assign(self.member)
        self.env.flush_all()
        self.env.cr.precommit.run()
        sent = self.env["bus.bus"].sudo().search([])
        banner = [row for row in sent if json.loads(row.message)["type"] == "comunik_mail.banner"]
        partners = {json.loads(row.channel)[2] for row in banner}
        self.assertIn(self.member.partner_id.id, partners)
        self.assertIn(self.dispatcher.partner_id.id, partners)
        self.assertIn(self.admin.partner_id.id, partners)
        self.assertNotIn(self.seller.partner_id.id, partners, "the sales team does not see this box")
        self.assertEqual(len(banner), len(partners), "one notification per user and transaction")
