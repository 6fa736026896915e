from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..models.comunik_mail_conversation import QUIET_CONTEXT

#: The pivot's measures, as the web client asks them (``field:aggregator`` from fields_get).
MEASURES = (
    "__count",
    "first_response_avg:avg",
    "first_response_median:median",
    "resolution_avg:avg",
    "resolution_median:median",
    "overdue_count:sum",
    "overdue_rate:avg",
)
JANUARY = [("date", ">=", "2024-01-01 00:00:00"), ("date", "<", "2024-02-01 00:00:00")]
QUARTER = [("date", ">=", "2024-01-01 00:00:00"), ("date", "<", "2024-04-01 00:00:00")]


@tagged("post_install", "-at_install")
class TestStatistics(TransactionCase):
    """« Statistiques des boîtes partagées » on a hand-built data set whose figures are known.

    Support box (delay 24 h, department Support), hours after reception:

    ====  ===========  ==========  ==============  ==========  =======
    conv  status       assignee    first response  closed      overdue
    ====  ===========  ==========  ==============  ==========  =======
    S1    closed       Mélanie     2               10          no
    S2    closed       Mélanie     4               30          yes
    S3    closed       Mélanie     9               14          no
    S4    in_progress  Mélanie     1               -           yes
    S5    unassigned   -           -               -           yes
    S6    assigned     Mélanie     -               -           no (received 1 h ago)
    ====  ===========  ==========  ==============  ==========  =======

    Sales box (delay 8 h, department Sales):

    ====  ==========  ==========================  ==============  ======  =======
    conv  status      assignee                    first response  closed  overdue
    ====  ==========  ==========================  ==============  ======  =======
    T1    closed      Bruno (Sales)               1.5             6       no
    T2    to_process  Bruno (Sales)               12              -       yes
    T3    closed      Mélanie (Support employee)  3               5       no
    T4    closed      Nina (no employee)          0.5             2       no
    ====  ==========  ==========================  ==============  ======  =======

    Plus an archived conversation of the support box and a personal box's conversation: never counted.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.admin = new_test_user(
            cls.env, "cmk_stats_admin", groups="base.group_user,comunik_mail.group_comunik_mail_admin"
        )
        cls.dispatcher = new_test_user(cls.env, "cmk_stats_dispatcher", groups=groups, name="Denis Dispatcheur")
        cls.member = new_test_user(cls.env, "cmk_stats_member", groups=groups, name="Mélanie Membre")
        cls.seller = new_test_user(cls.env, "cmk_stats_seller", groups=groups, name="Bruno Vendeur")
        cls.nina = new_test_user(cls.env, "cmk_stats_nina", groups=groups, name="Nina Sans-Fiche")
        cls.outsider = new_test_user(cls.env, "cmk_stats_outsider", groups=groups, name="Octave Autre")
        cls.support = cls.env["hr.department"].create({"name": "Support client"})
        cls.sales = cls.env["hr.department"].create({"name": "Ventes"})
        cls.env["hr.employee"].create(
            [
                {"name": cls.member.name, "user_id": cls.member.id, "department_id": cls.support.id},
                {"name": cls.seller.name, "user_id": cls.seller.id, "department_id": cls.sales.id},
            ]
        )
        Account = cls.env["comunik.mail.account"]
        server = {"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1"}
        cls.support_box = Account.create(
            {
                "email": "support-stats@example.test",
                "category": "shared",
                "response_delay": 24,
                "department_ids": [(6, 0, cls.support.ids)],
                "dispatcher_ids": [(6, 0, cls.dispatcher.ids)],
                **server,
            }
        )
        cls.sales_box = Account.create(
            {
                "email": "ventes-stats@example.test",
                "category": "shared",
                "response_delay": 8,
                "department_ids": [(6, 0, cls.sales.ids)],
                **server,
            }
        )
        cls.personal_box = Account.create(
            {"email": "melanie-stats@example.test", "category": "personal", "owner_id": cls.member.id, **server}
        )
        now = fields.Datetime.now()
        cls.conversations = {
            "S1": cls.conversation(cls.support_box, datetime(2024, 1, 10, 9), "closed", cls.member, 2, 10),
            "S2": cls.conversation(cls.support_box, datetime(2024, 1, 15, 9), "closed", cls.member, 4, 30),
            "S3": cls.conversation(cls.support_box, datetime(2024, 2, 5, 9), "closed", cls.member, 9, 14),
            "S4": cls.conversation(cls.support_box, datetime(2024, 2, 20, 9), "in_progress", cls.member, 1),
            "S5": cls.conversation(cls.support_box, datetime(2024, 3, 1, 9), "unassigned"),
            "S6": cls.conversation(cls.support_box, now - timedelta(hours=1), "assigned", cls.member),
            "T1": cls.conversation(cls.sales_box, datetime(2024, 1, 20, 10), "closed", cls.seller, 1.5, 6),
            "T2": cls.conversation(cls.sales_box, datetime(2024, 2, 10, 10), "to_process", cls.seller, 12),
            "T3": cls.conversation(cls.sales_box, datetime(2024, 1, 25, 10), "closed", cls.member, 3, 5),
            "T4": cls.conversation(cls.sales_box, datetime(2024, 3, 5, 10), "closed", cls.nina, 0.5, 2),
            "archived": cls.conversation(cls.support_box, datetime(2024, 1, 12, 9), "closed", cls.member, 1, 1),
            "personal": cls.conversation(cls.personal_box, datetime(2024, 1, 11, 9), "closed", cls.member, 1, 1),
        }
        cls.conversations["archived"].active = False
        cls.Stats = cls.env["comunik.mail.statistics"]

    @classmethod
    def conversation(cls, account, received, state, user=None, first_response=None, closed=None):
        """A conversation received at ``received``, answered / closed that many hours later."""
        return (
            cls.env["comunik.mail.conversation"]
            .with_context(**QUIET_CONTEXT)
            .create(
                {
                    "account_id": account.id,
                    "subject": f"{state} {received}",
                    "date_first": received,
                    "date_last": received,
                    "state": state,
                    "user_id": user.id if user else False,
                    "first_response_date": received + timedelta(hours=first_response) if first_response else False,
                    "close_date": received + timedelta(hours=closed) if closed else False,
                }
            )
        )

    def grouped(self, groupby, domain=(), user=None, aggregates=MEASURES):
        """{group value: {aggregate: value}} through ``_read_group``."""
        model = self.Stats.with_user(user) if user else self.Stats
        return {
            key: dict(zip(aggregates, values, strict=True))
            for key, *values in model._read_group(list(domain), [groupby], aggregates)
        }

    # ------------------------------------------------------------------ figures

    def test_data_set(self):
        """The deadlines the figures rely on, and one row per shared conversation."""
        c = self.conversations
        self.assertEqual(c["S1"].deadline, datetime(2024, 1, 11, 9))
        self.assertEqual(c["T1"].deadline, datetime(2024, 1, 20, 18))
        rows = self.Stats.search([])
        expected = [c[name] for name in ("S1", "S2", "S3", "S4", "S5", "S6", "T1", "T2", "T3", "T4")]
        self.assertEqual(sorted(rows.conversation_id.ids), sorted(conv.id for conv in expected))
        s2 = rows.filtered(lambda row: row.conversation_id == c["S2"])
        self.assertEqual(s2.date, datetime(2024, 1, 15, 9))
        self.assertEqual(s2.account_id, self.support_box)
        self.assertEqual(s2.department_id, self.support)
        self.assertEqual(s2.user_id, self.member)
        self.assertEqual(s2.state, "closed")
        self.assertEqual(s2.close_date, datetime(2024, 1, 16, 15))
        self.assertTrue(s2.is_overdue)
        self.assertAlmostEqual(s2.first_response_hours, 4)
        self.assertAlmostEqual(s2.resolution_hours, 30)

    def test_volumes_by_status(self):
        counts = {
            (account, state): count
            for account, state, count in self.Stats._read_group([], ["account_id", "state"], ["__count"])
        }
        self.assertEqual(
            counts,
            {
                (self.support_box, "closed"): 3,
                (self.support_box, "in_progress"): 1,
                (self.support_box, "unassigned"): 1,
                (self.support_box, "assigned"): 1,
                (self.sales_box, "closed"): 3,
                (self.sales_box, "to_process"): 1,
            },
        )
        overdue = self.Stats.search([("is_overdue", "=", True)])
        self.assertEqual(
            sorted(overdue.conversation_id.ids), sorted(self.conversations[n].id for n in ("S2", "S4", "S5", "T2"))
        )

    def test_times_and_overdue_rate_per_account(self):
        """Average and median, unanswered / unclosed conversations left out of the times but counted."""
        groups = self.grouped("account_id")
        support, sales = groups[self.support_box], groups[self.sales_box]
        self.assertEqual(support["__count"], 6)
        # first responses 2, 4, 9, 1 (S5 and S6 not answered yet)
        self.assertAlmostEqual(support["first_response_avg:avg"], 4.0)
        self.assertAlmostEqual(support["first_response_median:median"], 3.0)
        # resolutions 10, 30, 14 (S4, S5, S6 not closed)
        self.assertAlmostEqual(support["resolution_avg:avg"], 18.0)
        self.assertAlmostEqual(support["resolution_median:median"], 14.0)
        self.assertEqual(support["overdue_count:sum"], 3)
        self.assertAlmostEqual(support["overdue_rate:avg"], 50.0)

        self.assertEqual(sales["__count"], 4)
        # first responses 1.5, 12, 3, 0.5
        self.assertAlmostEqual(sales["first_response_avg:avg"], 4.25)
        self.assertAlmostEqual(sales["first_response_median:median"], 2.25)
        # resolutions 6, 5, 2
        self.assertAlmostEqual(sales["resolution_avg:avg"], 13 / 3)
        self.assertAlmostEqual(sales["resolution_median:median"], 5.0)
        self.assertEqual(sales["overdue_count:sum"], 1)
        self.assertAlmostEqual(sales["overdue_rate:avg"], 25.0)

        self.assertEqual(set(groups), {self.support_box, self.sales_box})

    def test_whole_period_totals(self):
        [totals] = self.Stats._read_group([], [], MEASURES)
        totals = dict(zip(MEASURES, totals, strict=True))
        self.assertEqual(totals["__count"], 10)
        # first responses 2, 4, 9, 1, 1.5, 12, 3, 0.5
        self.assertAlmostEqual(totals["first_response_avg:avg"], 33 / 8)
        self.assertAlmostEqual(totals["first_response_median:median"], 2.5)
        # resolutions 10, 30, 14, 6, 5, 2
        self.assertAlmostEqual(totals["resolution_avg:avg"], 67 / 6)
        self.assertAlmostEqual(totals["resolution_median:median"], 8.0)
        self.assertAlmostEqual(totals["overdue_rate:avg"], 40.0)

    def test_unanswered_only_group_has_no_time(self):
        """A group where nobody answered has volumes but no time (not a 0 that would lower averages)."""
        groups = self.grouped("state", [("account_id", "=", self.support_box.id)])
        self.assertEqual(groups["unassigned"]["__count"], 1)
        self.assertFalse(groups["unassigned"]["first_response_median:median"])
        self.assertFalse(groups["unassigned"]["first_response_avg:avg"])
        self.assertFalse(groups["unassigned"]["resolution_median:median"])
        self.assertAlmostEqual(groups["unassigned"]["overdue_rate:avg"], 100.0)
        self.assertAlmostEqual(groups["in_progress"]["first_response_median:median"], 1.0)
        self.assertFalse(groups["in_progress"]["resolution_avg:avg"])
        self.assertAlmostEqual(groups["closed"]["first_response_median:median"], 4.0)
        self.assertAlmostEqual(groups["closed"]["resolution_median:median"], 14.0)
        self.assertAlmostEqual(groups["closed"]["overdue_rate:avg"], 100 / 3)

    def test_per_department(self):
        """The assignee's department first (Mélanie's T3 counts for Support), else the account's."""
        groups = self.grouped("department_id")
        self.assertEqual(set(groups), {self.support, self.sales})
        support, sales = groups[self.support], groups[self.sales]
        # S1..S6 and T3
        self.assertEqual(support["__count"], 7)
        self.assertAlmostEqual(support["first_response_median:median"], 3.0)  # 2, 4, 9, 1, 3
        self.assertAlmostEqual(support["resolution_median:median"], 12.0)  # 10, 30, 14, 5
        self.assertAlmostEqual(support["resolution_avg:avg"], 14.75)
        self.assertAlmostEqual(support["overdue_rate:avg"], 300 / 7)
        # T1, T2 (Bruno, Sales), T4 (Nina has no employee: the account's department)
        self.assertEqual(sales["__count"], 3)
        self.assertAlmostEqual(sales["first_response_median:median"], 1.5)  # 1.5, 12, 0.5
        self.assertAlmostEqual(sales["first_response_avg:avg"], 14 / 3)
        self.assertAlmostEqual(sales["resolution_median:median"], 4.0)  # 6, 2
        row = self.Stats.search([("conversation_id", "=", self.conversations["S5"].id)])
        self.assertEqual(row.department_id, self.support, "unassigned: the account's department")

    def test_department_fallback_is_the_accounts_oldest(self):
        box = self.env["comunik.mail.account"].create(
            {
                "email": "accueil-stats@example.test",
                "category": "shared",
                "department_ids": [(6, 0, (self.sales | self.support).ids)],
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
            }
        )
        unassigned = self.conversation(box, datetime(2024, 4, 1, 9), "unassigned")
        by_nina = self.conversation(box, datetime(2024, 4, 2, 9), "assigned", self.nina)
        by_seller = self.conversation(box, datetime(2024, 4, 3, 9), "assigned", self.seller)
        rows = self.Stats.search([("account_id", "=", box.id)])
        department = {row.conversation_id: row.department_id for row in rows}
        self.assertEqual(department[unassigned], self.support)  # created first
        self.assertEqual(department[by_nina], self.support)
        self.assertEqual(department[by_seller], self.sales)

    def test_per_user(self):
        groups = self.grouped("user_id")
        self.assertEqual(
            {user: values["__count"] for user, values in groups.items()},
            {
                self.member: 6,  # S1, S2, S3, S4, S6, T3
                self.seller: 2,
                self.nina: 1,
                self.env["res.users"]: 1,  # S5, unassigned
            },
        )
        member = groups[self.member]
        self.assertAlmostEqual(member["first_response_avg:avg"], 19 / 5)  # 2, 4, 9, 1, 3
        self.assertAlmostEqual(member["first_response_median:median"], 3.0)
        self.assertAlmostEqual(member["resolution_avg:avg"], 14.75)  # 10, 30, 14, 5
        self.assertAlmostEqual(member["resolution_median:median"], 12.0)
        self.assertAlmostEqual(member["overdue_rate:avg"], 100 / 3)  # S2, S4
        seller = groups[self.seller]
        self.assertAlmostEqual(seller["first_response_median:median"], 6.75)  # 1.5, 12
        self.assertAlmostEqual(seller["resolution_median:median"], 6.0)
        self.assertAlmostEqual(seller["overdue_rate:avg"], 50.0)

    def test_period(self):
        """January 2024: S1, S2, T1, T3; the first quarter: everything but S6 (received an hour ago)."""
        groups = self.grouped("account_id", JANUARY)
        support, sales = groups[self.support_box], groups[self.sales_box]
        self.assertEqual(support["__count"], 2)
        self.assertAlmostEqual(support["first_response_avg:avg"], 3.0)  # 2, 4
        self.assertAlmostEqual(support["resolution_median:median"], 20.0)  # 10, 30
        self.assertAlmostEqual(support["overdue_rate:avg"], 50.0)
        self.assertEqual(sales["__count"], 2)
        self.assertAlmostEqual(sales["first_response_median:median"], 2.25)  # 1.5, 3
        self.assertAlmostEqual(sales["resolution_avg:avg"], 5.5)  # 6, 5
        self.assertAlmostEqual(sales["overdue_rate:avg"], 0.0)
        self.assertEqual(self.Stats.search_count(QUARTER), 9)
        per_month = {month: count for month, count in self.Stats._read_group(QUARTER, ["date:month"], ["__count"])}
        self.assertEqual(per_month, {datetime(2024, 1, 1): 4, datetime(2024, 2, 1): 3, datetime(2024, 3, 1): 2})

    # ------------------------------------------------------------------ web client calls

    def test_fields_get_announces_median(self):
        """The pivot and graph build their ``field:aggregator`` specs from fields_get."""
        described = self.Stats.with_user(self.member).fields_get(attributes=["aggregator", "type"])
        self.assertEqual(described["first_response_median"]["aggregator"], "median")
        self.assertEqual(described["resolution_median"]["aggregator"], "median")
        self.assertEqual(described["first_response_avg"]["aggregator"], "avg")
        self.assertEqual(described["overdue_rate"]["aggregator"], "avg")
        self.assertNotIn("aggregator", described["first_response_hours"])

    def test_pivot_call(self):
        """The pivot's formatted_read_grouping_sets call (rows by account, columns by status), as the
        support box's dispatcher, over the first quarter of 2024 (S1 to S5)."""
        Stats = self.Stats.with_user(self.dispatcher)
        totals, rows, cols, cells = Stats.formatted_read_grouping_sets(
            QUARTER, [[], ["account_id"], ["state"], ["account_id", "state"]], MEASURES
        )
        self.assertEqual(totals[0]["__count"], 5)
        self.assertAlmostEqual(totals[0]["first_response_avg:avg"], 4.0)  # 2, 4, 9, 1
        self.assertAlmostEqual(totals[0]["first_response_median:median"], 3.0)
        self.assertEqual([(row["account_id"][0], row["__count"]) for row in rows], [(self.support_box.id, 5)])
        self.assertAlmostEqual(rows[0]["resolution_avg:avg"], 18.0)  # 10, 30, 14
        self.assertAlmostEqual(rows[0]["resolution_median:median"], 14.0)
        self.assertAlmostEqual(rows[0]["overdue_rate:avg"], 60.0)  # S2, S4, S5
        self.assertEqual(
            {col["state"]: col["__count"] for col in cols}, {"closed": 3, "in_progress": 1, "unassigned": 1}
        )
        closed = next(cell for cell in cells if cell["state"] == "closed")
        self.assertEqual(closed["account_id"][0], self.support_box.id)
        self.assertAlmostEqual(closed["first_response_avg:avg"], 5.0)  # 2, 4, 9
        self.assertAlmostEqual(closed["first_response_median:median"], 4.0)
        self.assertAlmostEqual(closed["overdue_rate:avg"], 100 / 3)
        unassigned = next(cell for cell in cells if cell["state"] == "unassigned")
        self.assertIs(unassigned["first_response_median:median"], False)  # not answered: no time, not 0
        self.assertEqual(unassigned["overdue_count:sum"], 1)

    def test_graph_call(self):
        """The graph's formatted_read_group call, by month with the empty months filled (as the graph
        asks): closed sales emails T1 and T3 in January, none in February, T4 in March."""
        Stats = self.Stats.with_user(self.seller).with_context(fill_temporal=True)
        groups = Stats.formatted_read_group(
            QUARTER + [("state", "=", "closed")],
            ["date:month"],
            ["__count", "first_response_median:median"],
        )
        self.assertEqual([group["__count"] for group in groups], [2, 0, 1])
        self.assertEqual([group["first_response_median:median"] for group in groups], [2.25, False, 0.5])
        by_state = self.Stats.with_user(self.admin).formatted_read_group([], ["state"], ["__count"])
        self.assertEqual(
            {group["state"]: group["__count"] for group in by_state},
            {"unassigned": 1, "assigned": 1, "in_progress": 1, "to_process": 1, "closed": 6},
        )

    def test_grouped_list_call(self):
        """A list grouped by user asks web_read_group for every aggregated field, median included,
        and may sort groups on a median."""
        result = self.Stats.with_user(self.admin).web_read_group(
            [],
            ["user_id"],
            ["first_response_median:median", "resolution_avg:avg", "overdue_rate:avg"],
            order="first_response_median desc",
        )
        self.assertEqual(result["length"], 4)
        medians = [
            (group["user_id"] and group["user_id"][0], group["first_response_median:median"])
            for group in result["groups"]
        ]
        # PostgreSQL sorts NULL (nobody answered the unassigned email) first in descending order.
        self.assertEqual(medians, [(False, False), (self.seller.id, 6.75), (self.member.id, 3.0), (self.nina.id, 0.5)])

    def test_unknown_median_target(self):
        with self.assertRaises(ValueError):
            self.Stats._read_group([], [], ["account_id:median"])

    def test_export(self):
        """The list's export (for users Odoo allows to export) holds the rows the user may see."""
        self.member.group_ids = [(4, self.env.ref("base.group_allow_export").id)]
        rows = self.Stats.with_user(self.member).search([], order="date")
        exported = rows.export_data(["date", "account_id", "state", "first_response_hours", "resolution_hours"])
        self.assertEqual(len(exported["datas"]), 6)
        self.assertEqual(exported["datas"][0][1:], [self.support_box.email, "Closed", 2.0, 10.0])

    def test_views_and_menu(self):
        action = self.env.ref("comunik_mail.action_comunik_mail_statistics")
        self.assertEqual(action.res_model, "comunik.mail.statistics")
        self.assertEqual(action.view_mode, "pivot,graph,list")
        menu = self.env.ref("comunik_mail.menu_comunik_mail_statistics")
        self.assertEqual(menu.parent_id, self.env.ref("comunik_mail.menu_comunik_mail_root"))
        self.assertLess(self.env.ref("comunik_mail.menu_comunik_mail_inbox").sequence, menu.sequence)
        self.assertLess(menu.sequence, self.env.ref("comunik_mail.menu_comunik_mail_configuration").sequence)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.member)._visible_menu_ids())
        views = self.Stats.with_user(self.member).get_views(
            [(False, "pivot"), (False, "graph"), (False, "list"), (False, "search")]
        )
        self.assertIn("first_response_median", views["views"]["pivot"]["arch"])
        self.assertIn('date="date"', views["views"]["search"]["arch"])

    # ------------------------------------------------------------------ access

    def test_member_sees_their_departments_shared_boxes_only(self):
        self.assertEqual(self.Stats.with_user(self.member).search_count([]), 6)
        groups = self.grouped("account_id", user=self.member)
        self.assertEqual(list(groups), [self.support_box])
        self.assertAlmostEqual(groups[self.support_box]["first_response_median:median"], 3.0)
        # Bruno (Sales) sees the sales box, T3 included although it counts for Support.
        seller_groups = self.grouped("department_id", user=self.seller)
        self.assertEqual(
            {dep: values["__count"] for dep, values in seller_groups.items()}, {self.sales: 3, self.support: 1}
        )
        # The dispatcher of the support box, without any department, sees it too.
        self.assertEqual(self.Stats.with_user(self.dispatcher).search_count([]), 6)
        self.assertEqual(self.Stats.with_user(self.outsider).search_count([]), 0)
        self.assertEqual(self.Stats.with_user(self.admin).search_count([]), 10)

    def test_personal_box_never_counted(self):
        personal = self.conversations["personal"]
        for user in (self.member, self.admin):
            Stats = self.Stats.with_user(user)
            self.assertFalse(Stats.search([("conversation_id", "=", personal.id)]))
            self.assertFalse(Stats.search([("account_id", "=", self.personal_box.id)]))
        self.assertFalse(self.Stats.search([("conversation_id", "=", self.conversations["archived"].id)]))

    def test_read_only(self):
        row = self.Stats.with_user(self.admin).search([], limit=1)
        with self.assertRaises(AccessError):
            row.write({"state": "closed"})
        user = new_test_user(self.env, "cmk_stats_plain", groups="base.group_user", context={"no_reset_password": True})
        with self.assertRaises(AccessError):
            self.Stats.with_user(user).search([])
