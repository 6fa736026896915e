"""Automatic assignment of shared boxes: round robin, balanced with capacities, exclusions, sticky, backlog."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from ..services import imap_sync
from .common import ComunikSyncCase
from .test_sync import build_email


def always_open_calendar(env, name="24/7"):
    """Working hours every day, all day (tests run at any hour)."""
    return env["resource.calendar"].create(
        {
            "name": name,
            "tz": "UTC",
            "attendance_ids": [
                (
                    0,
                    0,
                    {
                        "name": f"{day} {period}",
                        "dayofweek": str(day),
                        "hour_from": start,
                        "hour_to": end,
                        "day_period": period,
                    },
                )
                for day in range(7)
                for start, end, period in ((0, 12, "morning"), (12, 24, "afternoon"))
            ],
        }
    )


@tagged("post_install", "-at_install")
class TestAssignment(ComunikSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.calendar = always_open_calendar(env)
        cls.team = env["hr.department"].create({"name": "Support automatique"})
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        names = ["Julie Martin", "Karim Benali", "Léa Petit", "Marc Roux", "Nina Faure"]
        cls.members = env["res.users"]
        cls.employees = env["hr.employee"]
        for index, name in enumerate(names):
            user = new_test_user(env, f"cmk_auto_{index}", groups=groups, name=name, lang="fr_FR", tz="UTC")
            cls.members |= user
            cls.employees |= env["hr.employee"].create(
                {
                    "name": name,
                    "user_id": user.id,
                    "department_id": cls.team.id,
                    "resource_calendar_id": cls.calendar.id,
                    "tz": "UTC",
                }
            )

    def setUp(self):
        super().setUp()
        self.account = self.create_shared_account(department_ids=[(6, 0, self.team.ids)], assign_mode="round_robin")
        self.folder = self.account.sudo()._sync_folder("INBOX")
        self.next_uid = 0
        self.t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)

    # ------------------------------------------------------------------ helpers

    def ingest(self, count, sender="client{n}@client-{n}.example", start_minutes=0, batch=200):
        """``count`` new emails through the reception pipeline (as the sync does, batch by batch), one minute
        apart, each from its own customer unless ``sender`` says otherwise."""
        items = []
        for index in range(count):
            self.next_uid += 1
            date = self.t0 + timedelta(minutes=start_minutes + index)
            address = sender.format(n=self.next_uid)
            _mid, raw = build_email(
                f"Demande {self.next_uid}", sender=f"Client <{address}>", to=self.account.email, date=date
            )
            items.append(imap_sync.FetchedMessage(self.next_uid, raw, date.replace(tzinfo=None)))
        Ingestion = self.env["comunik.mail.ingestion"]
        for offset in range(0, len(items), batch):
            Ingestion._ingest(self.account, self.folder, items[offset : offset + batch])
        self.env.invalidate_all()

    def conversations(self):
        return self.env["comunik.mail.conversation"].search(
            [("account_id", "=", self.account.id)], order="date_first, id"
        )

    def loads(self):
        return self.env["comunik.mail.assignment"]._loads(self.account)

    def load_of(self, user):
        return self.loads().get((self.account.id, user.id), 0)

    def notes(self, conversation):
        return conversation.message_ids.filtered(lambda m: "Attribué à" in (m.body or "")).mapped("body")

    def set_capacities(self, capacities):
        self.env["comunik.mail.account.member"].create(
            [
                {"account_id": self.account.id, "user_id": user.id, "capacity": capacity}
                for user, capacity in zip(self.members, capacities, strict=True)
            ]
        )

    # ------------------------------------------------------------------ modes

    def test_manual_mode_leaves_everything_to_the_dispatchers(self):
        self.account.assign_mode = "manual"
        self.ingest(5)
        self.assertEqual(set(self.conversations().mapped("state")), {"unassigned"})
        self.assertFalse(self.conversations().user_id)

    def test_round_robin_is_fair_over_1000_emails(self):
        self.ingest(1000)
        conversations = self.conversations()
        self.assertEqual(len(conversations), 1000)
        self.assertFalse(conversations.filtered(lambda c: not c.user_id), "every email is assigned")
        counts = Counter(conversations.mapped("user_id.id"))
        self.assertEqual(set(counts), set(self.members.ids))
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1, counts)
        self.assertEqual(set(conversations.mapped("assign_method")), {"round_robin"})
        self.assertEqual(set(conversations.mapped("state")), {"assigned"})
        # In turn, by user: the first five go to the five members, one each.
        self.assertEqual(conversations[:5].user_id, self.members)
        first = conversations[0]
        notes = self.notes(first)
        self.assertEqual(len(notes), 1)
        self.assertIn(f"Attribué à {first.user_id.name} (tour de rôle, 1 en cours)", notes[0])
        self.assertEqual(len(self.notes(conversations[-1])), 1, "one explanation per assignment")

    def test_balanced_never_exceeds_a_capacity_and_drains_in_order(self):
        self.account.assign_mode = "balanced"
        self.set_capacities([3, 5, 2, 4, 6])
        self.ingest(100)
        conversations = self.conversations()
        for user, capacity in zip(self.members, [3, 5, 2, 4, 6], strict=True):
            self.assertEqual(self.load_of(user), capacity, f"{user.name} filled up to, never above, {capacity}")
        waiting = conversations.filtered(lambda c: c.state == "unassigned")
        self.assertEqual(len(waiting), 80, "when everyone is full, mail stays « Non assigné »")
        self.assertFalse(waiting.user_id)
        # The 20 assigned are the 20 oldest: no email overtook an older one.
        self.assertEqual(conversations[:20].mapped("state"), ["assigned"] * 20)
        line = self.account.assign_member_ids.filtered(lambda mb: mb.user_id == self.members[2])
        self.assertEqual((line.load, line.capacity_use), (2, 100.0))
        note = self.notes(conversations.filtered(lambda c: c.user_id == self.members[2])[-1])[0]
        self.assertIn(f"Attribué à {self.members[2].name} (équilibré, 2/2 en cours)", note)

        # Capacity frees: the longest-waiting email goes to the member who has room, at once.
        julie = self.members[0]
        done = conversations.filtered(lambda c: c.user_id == julie)[:2]
        done.with_user(julie).action_close()
        self.env.invalidate_all()
        self.assertEqual(waiting[:2].user_id, julie)
        self.assertEqual(waiting[:2].mapped("state"), ["assigned", "assigned"])
        self.assertEqual(set(waiting[2:].mapped("state")), {"unassigned"})
        self.assertEqual(self.load_of(julie), 3)

        # Raising a capacity gives out the next ones, still in order.
        line = self.account.assign_member_ids.filtered(lambda mb: mb.user_id == self.members[4])
        line.capacity = 9
        self.env.invalidate_all()
        self.assertEqual(waiting[2:5].user_id, self.members[4])
        self.assertEqual(set(waiting[5:].mapped("state")), {"unassigned"})

    def test_an_urgent_email_weighs_two(self):
        self.set_capacities([2, 1, 1, 1, 1])
        self.account.assign_mode = "manual"
        self.ingest(1)
        urgent = self.conversations()
        urgent.with_user(self.dispatcher).action_assign(self.members[0].id, priority="2")
        self.assertEqual(self.load_of(self.members[0]), 2)
        self.account.assign_mode = "round_robin"
        self.ingest(5)
        new = self.conversations() - urgent
        self.assertEqual(len(new.filtered("user_id")), 4, "Julie is full with one urgent email")
        self.assertNotIn(self.members[0], new.user_id)

    def test_dispatchers_can_assign_above_capacity(self):
        self.set_capacities([1, 1, 1, 1, 1])
        self.ingest(6)
        waiting = self.conversations().filtered(lambda c: not c.user_id)
        self.assertEqual(len(waiting), 1)
        waiting.with_user(self.dispatcher).action_assign(self.members[0].id)
        self.assertEqual((waiting.user_id, waiting.assign_method), (self.members[0], "manual"))
        self.assertEqual(self.load_of(self.members[0]), 2)

    def test_a_snoozed_email_is_given_out_when_it_wakes(self):
        self.set_capacities([1, 1, 1, 1, 1])
        self.ingest(6)
        waiting = self.conversations().filtered(lambda c: not c.user_id)
        self.assertEqual(len(waiting), 1, "everyone is full: the sixth waits")
        waiting.with_user(self.dispatcher).action_snooze(fields.Datetime.now() + timedelta(days=1))
        julie = self.members[0]
        self.conversations().filtered(lambda c: c.user_id == julie).with_user(julie).action_close()
        self.env.invalidate_all()
        self.assertFalse(waiting.user_id, "a snoozed email is not given out, even when capacity frees")
        waiting.with_user(self.dispatcher).action_unsnooze()
        self.env.invalidate_all()
        self.assertEqual((waiting.user_id, waiting.state), (julie, "assigned"), "given out as it wakes")

    # ------------------------------------------------------------------ eligibility

    def test_out_of_office_time_off_and_working_hours_are_skipped(self):
        julie, _karim, _lea, marc, nina = self.members
        julie.sudo().write({"out_of_office_from": fields.Datetime.now() - timedelta(hours=1)})
        # Time off as Odoo records it for validated leaves (hr_holidays writes these): the resource's leave.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Congés",
                "resource_id": self.employees[1].resource_id.id,
                "calendar_id": self.calendar.id,
                "date_from": fields.Datetime.now() - timedelta(hours=2),
                "date_to": fields.Datetime.now() + timedelta(hours=2),
                "time_type": "leave",
            }
        )
        other_day = str((datetime.now(UTC).weekday() + 3) % 7)
        part_time = self.env["resource.calendar"].create(
            {
                "name": "Un jour par semaine",
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Jour",
                            "dayofweek": other_day,
                            "hour_from": 0,
                            "hour_to": 24,
                            "day_period": "full_day",
                        },
                    )
                ],
            }
        )
        self.employees[2].resource_calendar_id = part_time
        self.ingest(10)
        self.assertEqual(self.conversations().user_id, marc | nina)
        self.assertEqual(len(self.conversations().filtered("user_id")), 10)

        # Online only: nobody is connected, so the next emails wait; Nina connects, the cron gives them to her.
        self.account.assign_online_only = True
        self.ingest(3, start_minutes=100)
        waiting = self.conversations().filtered(lambda c: not c.user_id)
        self.assertEqual(len(waiting), 3)
        self.env["mail.presence"].create({"user_id": nina.id, "status": "online"})
        nina.invalidate_recordset(["im_status"])
        self.env["comunik.mail.assignment"]._cron_assign()
        self.assertEqual(waiting.user_id, nina)

        # Back from out of office: Julie takes the next ones again (Nina too, still connected).
        self.account.assign_online_only = False
        julie.sudo().write({"out_of_office_from": False})
        self.ingest(4, start_minutes=200)
        self.assertIn(julie, self.conversations()[-4:].user_id)

    def test_members_back_at_work_take_the_backlog_in_order(self):
        for user in self.members:
            user.sudo().out_of_office_from = fields.Datetime.now() - timedelta(days=1)
        self.ingest(6)
        waiting = self.conversations()
        self.assertEqual(set(waiting.mapped("state")), {"unassigned"})
        self.set_capacities([2, 1, 1, 1, 1])
        self.members[0].sudo().out_of_office_from = False
        self.env["comunik.mail.assignment"]._cron_assign()
        self.assertEqual(waiting[:2].user_id, self.members[0], "the two longest-waiting ones")
        self.assertEqual(set(waiting[2:].mapped("state")), {"unassigned"})

    def test_non_members_lines_and_personal_boxes_are_ignored(self):
        outsider = new_test_user(self.env, "cmk_auto_outsider", groups="base.group_user", name="Olivier Dehors")
        self.env["comunik.mail.account.member"].create({"account_id": self.account.id, "user_id": outsider.id})
        personal = self.create_account(user=self.owner)
        personal.sudo().assign_mode = "round_robin"
        self.ingest(10)
        self.assertNotIn(outsider, self.conversations().user_id)
        self.assertFalse(self.env["comunik.mail.assignment"]._automatic(personal))

    # ------------------------------------------------------------------ sticky

    def test_a_customer_goes_back_to_their_last_handler(self):
        self.ingest(1, sender="fidele@client-fidele.example")
        first = self.conversations()
        handler = first.user_id
        self.ingest(3)  # others, in turn
        self.ingest(1, sender="fidele@client-fidele.example", start_minutes=50)
        latest = self.conversations()[-1]
        self.assertEqual(latest.user_id, handler)
        self.assertEqual(latest.assign_method, "sticky")
        self.assertIn("(même client, 2 en cours)", self.notes(latest)[0])
        # Full: the customer's email goes to the next member in turn instead.
        self.env["comunik.mail.account.member"].create(
            {"account_id": self.account.id, "user_id": handler.id, "capacity": 2}
        )
        self.ingest(1, sender="fidele@client-fidele.example", start_minutes=60)
        latest = self.conversations()[-1]
        self.assertNotEqual(latest.user_id, handler)
        self.assertEqual(latest.assign_method, "round_robin")

    # ------------------------------------------------------------------ statistics

    def test_statistics_time_to_assignment_and_load(self):
        self.account.assign_mode = "balanced"
        self.ingest(5)
        Statistics = self.env["comunik.mail.statistics"]
        rows = Statistics.search([("account_id", "=", self.account.id)])
        self.assertEqual(set(rows.mapped("assign_method")), {"balanced"})
        # Received 5 hours ago (INTERNALDATE), assigned now.
        self.assertTrue(all(4.8 < hours < 5.5 for hours in rows.mapped("assign_hours")), rows.mapped("assign_hours"))
        groups = Statistics._read_group(
            [("account_id", "=", self.account.id)], ["user_id"], ["open_load:sum", "assign_avg:avg"]
        )
        self.assertEqual({user: load for user, load, _avg in groups}, dict.fromkeys(self.members, 1))

    # ------------------------------------------------------------------ real sync

    def test_real_dovecot_sync_assigns_in_turn(self):
        for index in range(7):
            _mid, raw = build_email(
                f"Synchro {index}", sender=f"Client {index} <c{index}@sync.example>", to=self.account.email
            )
            self.dovecot.append(self.account.email, raw, date=datetime.now(UTC) - timedelta(minutes=10 - index))
        result = self.account.sudo()._sync()
        self.assertEqual(result["state"], "ok", result["error"])
        conversations = self.conversations()
        self.assertEqual(len(conversations), 7)
        self.assertEqual(conversations[:5].user_id, self.members)
        self.assertEqual(conversations[5:].user_id, self.members[:2])
        self.assertEqual(len(self.notes(conversations[6])), 1)
