import json
from datetime import date, datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import format_datetime, mute_logger

from ..services import snooze
from .common import ComunikSyncCase
from .test_sync import build_email

CONVERSATION = "comunik.mail.conversation"
#: Thursday 3 December 2026, 13:00 UTC (14:00 in Paris).
THURSDAY = datetime(2026, 12, 3, 13, 0)


@tagged("post_install", "-at_install")
class TestSnooze(ComunikSyncCase):
    """« Mettre en attente jusqu'au… » on real mail: hidden from the inbox, back on time (cron), back on a
    customer reply through the real sync, deadline clock paused, times in the user's timezone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.member.write({"lang": "fr_FR", "tz": "Europe/Paris"})
        cls.dispatcher.write({"lang": "fr_FR", "tz": "Europe/Paris"})
        cls.env = cls.env(context=dict(cls.env.context, lang="fr_FR"))  # as the web client of a French user

    def setUp(self):
        super().setUp()
        # A new mailbox per test: Dovecot keeps its mail when the test's transaction is rolled back.
        self.shared = self.create_shared_account()

    def receive(self, *raws):
        for raw in raws:
            self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()
        return self.env[CONVERSATION].search([("account_id", "=", self.shared.id)], order="id")

    def inbox(self, domain=(), user=None):
        """What the inbox list shows (its action's context), as ``user`` (default: the dispatcher)."""
        model = self.env[CONVERSATION].with_user(user or self.dispatcher).with_context(comunik_hide_snoozed=True)
        domain = [("account_id", "=", self.shared.id), *domain]
        result = model.web_search_read(domain, {"subject": {}})
        return sorted(row["subject"] for row in result["records"])

    def notes(self, conversation):
        return conversation.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("mail.mt_note"))

    # ------------------------------------------------------------------ inbox, filter, banner

    def test_snoozed_conversation_leaves_the_inbox_until_resumed(self):
        first, second = self.receive(build_email("Devis cuisine")[1], build_email("Relance facture")[1])
        self.assertEqual(self.inbox(), ["Devis cuisine", "Relance facture"])
        first.with_user(self.dispatcher).action_snooze(datetime.now() + timedelta(days=1))
        self.assertTrue(first.is_snoozed)
        self.assertEqual(self.inbox(), ["Relance facture"], "hidden from the inbox")
        self.assertEqual(self.inbox([("is_snoozed", "=", True)]), ["Devis cuisine"], "« En attente » filter")
        self.assertEqual(self.inbox([("snooze_until", "!=", False)]), ["Devis cuisine"])
        self.assertEqual(self.inbox([("state", "=", "unassigned")]), ["Relance facture"], "other filters hide it")
        grouped = (
            self.env[CONVERSATION]
            .with_user(self.dispatcher)
            .with_context(comunik_hide_snoozed=True)
            .web_read_group([("account_id", "=", self.shared.id)], ["state"], ["__count"])
        )
        self.assertEqual([group["__count"] for group in grouped["groups"]], [1], "kanban and grouped list too")
        # Elsewhere (CRM, statistics, API searches) a snoozed conversation is still a conversation.
        self.assertEqual(
            self.env[CONVERSATION].with_user(self.dispatcher).search_count([("account_id", "=", self.shared.id)]), 2
        )
        # The Email app opens the inbox with that context, also on the user's primary account.
        self.assertTrue(self.env[CONVERSATION].with_user(self.dispatcher).action_open_inbox()["context"])
        self.dispatcher.comunik_primary_account_id = self.shared
        context = self.env[CONVERSATION].with_user(self.dispatcher).action_open_inbox()["context"]
        self.assertEqual(context, {"search_default_account_id": self.shared.id, "comunik_hide_snoozed": True})

        # The banner counts like the inbox: « Non assignés » leaves it out, « En attente » counts it.
        banner = self.env["comunik.mail.banner.config"].with_user(self.dispatcher)
        banner._for_user().write({"show_snoozed": True, "show_new": True})
        counts = {counter["key"]: counter["count"] for counter in banner.get_banner()["counters"]}
        self.assertEqual((counts["unassigned"], counts["new"], counts["snoozed"]), (1, 1, 1))

        first.with_user(self.dispatcher).action_unsnooze()
        self.assertFalse(first.is_snoozed)
        self.assertEqual(self.inbox(), ["Devis cuisine", "Relance facture"], "« Reprendre » brings it back")
        self.assertIn("Fin de la mise en attente, par Denis Dispatcheur.", self.notes(first).mapped("body")[0])
        counts = {counter["key"]: counter["count"] for counter in banner.get_banner()["counters"]}
        self.assertEqual((counts["unassigned"], counts["snoozed"]), (2, 0))
        self.assertFalse(second.is_snoozed)

    def test_list_selection_snoozes_several_and_refuses_bad_dates_in_french(self):
        conversations = self.receive(build_email("Commande A")[1], build_email("Commande B")[1])
        Wizard = (
            self.env["comunik.mail.snooze.wizard"]
            .with_user(self.dispatcher)
            .with_context(active_model=CONVERSATION, active_ids=conversations.ids, comunik_now=THURSDAY)
        )
        form = Form(Wizard)
        self.assertEqual(form.choice, "tomorrow")
        self.assertTrue(form.wake_on_reply, "« Réveiller si le client répond » is on by default")
        form.choice = "custom"
        form.custom_date = date(2026, 12, 2)  # yesterday
        wizard = form.save()
        with self.assertRaisesRegex(UserError, "La mise en attente doit se terminer dans le futur"):
            wizard.action_apply()
        wizard.custom_date = date(2028, 1, 1)
        with self.assertRaisesRegex(UserError, "au plus 366 jours"):
            wizard.action_apply()
        wizard.custom_date = False
        with self.assertRaisesRegex(UserError, "Choisissez la date et l'heure"):
            wizard.action_apply()
        self.assertFalse(any(conversations.mapped("snooze_until")), "nothing snoozed by refused attempts")
        wizard.custom_date = date(2026, 12, 10)
        wizard.action_apply()
        self.assertEqual(conversations.mapped("snooze_until"), [datetime(2026, 12, 10, 8, 0)] * 2)
        self.assertIn("Mis en attente jusqu'au", self.notes(conversations[0]).mapped("body")[0])

        # Closing a snoozed email ends the snooze.
        conversations[1].with_user(self.dispatcher).action_close()
        self.assertEqual((conversations[1].state, conversations[1].is_snoozed), ("closed", False))
        notes = "".join(self.notes(conversations[1]).mapped("body"))
        self.assertIn("Fin de la mise en attente : clôturé par Denis Dispatcheur.", notes)
        with self.assertRaisesRegex(UserError, "Un email clôturé ne peut pas être mis en attente"):
            conversations[1].with_user(self.dispatcher).with_context(comunik_now=THURSDAY).action_snooze(
                datetime(2026, 12, 10, 8, 0)
            )

    # ------------------------------------------------------------------ timezone

    def test_wizard_times_are_read_on_the_users_wall_clock(self):
        conversation = self.receive(build_email("Rappel lundi")[1])
        Wizard = (
            self.env["comunik.mail.snooze.wizard"]
            .with_user(self.dispatcher)  # Europe/Paris
            .with_context(active_model=CONVERSATION, active_ids=conversation.ids, comunik_now=THURSDAY)
        )
        wizard = Wizard.create({"choice": "tomorrow"})
        self.assertEqual(wizard.snooze_until, datetime(2026, 12, 4, 8, 0), "Friday 9:00 in Paris is 8:00 UTC")
        self.assertEqual(wizard.snooze_until_text, "vendredi 4 décembre 2026 09:00 (Europe/Paris)")
        wizard.choice = "next_monday"
        self.assertEqual(wizard.snooze_until, datetime(2026, 12, 7, 8, 0))
        wizard.write({"choice": "custom", "custom_date": "2027-07-01", "custom_hour": 14.5})
        self.assertEqual(wizard.snooze_until, datetime(2027, 7, 1, 12, 30), "summer time: UTC+2")
        wizard.action_apply()
        self.assertEqual(conversation.snooze_until, datetime(2027, 7, 1, 12, 30))
        self.assertIn("01/07/2027 14:30", self.notes(conversation).mapped("body")[0], "the note in Paris time")

        self.member.tz = "America/New_York"
        self.assertEqual(
            Wizard.with_user(self.member).create({"choice": "tomorrow"}).snooze_until, datetime(2026, 12, 4, 14, 0)
        )

    # ------------------------------------------------------------------ wake-ups

    def test_cron_wakes_up_due_conversations_and_notifies_the_assignee(self):
        first, second = self.receive(build_email("Rappeler le client")[1], build_email("Plus tard")[1])
        (first | second).with_user(self.dispatcher).action_assign(self.member)
        (first | second).action_mark_read()
        now = datetime.now().replace(microsecond=0)
        first.with_user(self.member).action_snooze(now + timedelta(hours=1))
        second.with_user(self.member).action_snooze(now + timedelta(days=2))
        Conversation = self.env[CONVERSATION]
        self.assertEqual(Conversation.with_context(comunik_now=now + timedelta(minutes=59))._cron_wake_snoozed(), 0)
        self.assertTrue(first.is_snoozed)
        self.assertEqual(Conversation.with_context(comunik_now=now + timedelta(hours=1))._cron_wake_snoozed(), 1)
        self.assertFalse(first.snooze_until)
        self.assertTrue(second.is_snoozed, "not due yet")
        self.assertTrue(first.is_new, "back like a new email")
        note = self.notes(first)[0]
        self.assertIn("Fin de la mise en attente : la date est arrivée.", note.body, "in the assignee's language")
        self.assertIn(self.member.partner_id, note.partner_ids, "the assignee is notified")
        self.assertEqual(self.inbox(user=self.member), ["Rappeler le client"])

        # The scheduled action itself, as Odoo runs it (superuser, real clock): the date is in the past now.
        second.sudo().snooze_until = now - timedelta(minutes=1)
        self.env.ref("comunik_mail.ir_cron_comunik_mail_snooze").ir_actions_server_id.sudo().run()
        self.assertFalse(second.snooze_until)
        self.assertEqual(self.inbox(user=self.member), ["Plus tard", "Rappeler le client"])

    def test_customer_reply_wakes_it_up_through_the_sync(self):
        first_id, first = build_email("Attente de la pièce")
        conversation = self.receive(first)
        conversation.with_user(self.dispatcher).action_assign(self.member)
        conversation.with_user(self.member).action_snooze(datetime.now() + timedelta(days=3))
        _reply_id, reply = build_email("Re: Attente de la pièce", in_reply_to=first_id, references=[first_id])
        self.receive(reply)
        self.assertEqual(conversation.message_count, 2, "the reply joined the conversation")
        self.assertFalse(conversation.is_snoozed, "the customer's reply woke it up")
        self.assertEqual(self.inbox(user=self.member), ["Attente de la pièce"])
        note = self.notes(conversation)[0]
        self.assertIn("Fin de la mise en attente : le client a répondu.", note.body)
        self.assertIn(self.member.partner_id, note.partner_ids)

    def test_reply_does_not_wake_it_up_when_the_option_is_off(self):
        first_id, first = build_email("Congés fournisseur")
        conversation = self.receive(first)
        until = datetime.now().replace(microsecond=0) + timedelta(days=3)
        conversation.with_user(self.dispatcher).action_snooze(until, wake_on_reply=False)
        _reply_id, reply = build_email("Re: Congés fournisseur", in_reply_to=first_id, references=[first_id])
        self.receive(reply)
        self.assertEqual(conversation.message_count, 2, "the reply joined the conversation")
        self.assertEqual(conversation.snooze_until, until, "still snoozed until its date")
        self.assertEqual(self.inbox(), [])

    # ------------------------------------------------------------------ deadline clock

    def test_deadline_clock_stands_still_while_snoozed(self):
        conversation = self.receive(build_email("Urgent")[1])
        received = datetime(2026, 11, 20, 16, 0)  # a Friday, 16:00 UTC
        conversation.sudo().date_first = received
        self.shared.sudo().response_delay = 4
        self.assertEqual(conversation.deadline, received + timedelta(hours=4))
        at = conversation.with_user(self.dispatcher).with_context
        # Snoozed at 17:00 (3 h left) for 24 h: never overdue meanwhile, then 3 h left from the wake-up.
        at(comunik_now=received + timedelta(hours=1)).action_snooze(received + timedelta(hours=25))
        late = self.env[CONVERSATION].with_context(comunik_now=received + timedelta(hours=6))
        self.assertFalse(late.browse(conversation.id).is_overdue, "past the deadline, but snoozed")
        self.assertNotIn(conversation, late.search([("is_overdue", "=", True)]))
        self.assertIn(conversation, late.search([("is_overdue", "=", False)]))
        self.env[CONVERSATION].with_context(comunik_now=received + timedelta(hours=25))._cron_wake_snoozed()
        self.assertFalse(conversation.is_snoozed)
        self.assertEqual(conversation.snooze_paused_hours, 24)
        self.assertEqual(conversation.deadline, received + timedelta(hours=28), "moved by the 24 h of snooze")

        def overdue_at(hours):
            return self.env[CONVERSATION].with_context(comunik_now=received + timedelta(hours=hours))

        self.assertNotIn(conversation, overdue_at(27).search([("is_overdue", "=", True)]))
        self.assertIn(conversation, overdue_at(29).search([("is_overdue", "=", True)]))

        # Already late when snoozed: the snooze does not rescue it.
        at(comunik_now=received + timedelta(hours=30)).action_snooze(received + timedelta(hours=40))
        at(comunik_now=received + timedelta(hours=35)).action_unsnooze()
        self.assertEqual(conversation.deadline, received + timedelta(hours=28))
        self.assertTrue(overdue_at(35).browse(conversation.id).is_overdue)

    def test_deadline_clock_counts_working_hours_only(self):
        conversation = self.receive(build_email("Panne")[1])
        conversation.sudo().date_first = datetime(2026, 11, 20, 16, 0)  # Friday 16:00 UTC
        self.shared.sudo().response_delay = 4
        self.department.resource_calendar_id = self.env["resource.calendar"].create(
            {"name": "Support 8h-17h", "tz": "UTC"}
        )
        # 1 h on Friday until 17:00, 3 h on Monday from 8:00.
        self.assertEqual(conversation.deadline, datetime(2026, 11, 23, 11, 0))
        at = conversation.with_user(self.dispatcher).with_context
        # Snoozed Friday 16:30 until Monday 9:00: 0.5 h on Friday and 1 h on Monday stood still, not the weekend.
        at(comunik_now=datetime(2026, 11, 20, 16, 30)).action_snooze(datetime(2026, 11, 23, 9, 0))
        self.env[CONVERSATION].with_context(comunik_now=datetime(2026, 11, 23, 9, 0))._cron_wake_snoozed()
        self.assertEqual(conversation.snooze_paused_hours, 1.5)
        self.assertEqual(conversation.deadline, datetime(2026, 11, 23, 13, 30), "3.5 h left: 9-12 h, then 13-13:30 h")

    # ------------------------------------------------------------------ rights

    def test_only_those_who_work_the_conversation_snooze_it(self):
        conversation = self.receive(build_email("Réclamation")[1])
        until = datetime.now() + timedelta(days=1)
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).action_snooze(until)  # not assigned to them (yet)
        with self.assertRaises(AccessError):
            conversation.with_user(self.other).action_snooze(until)  # cannot even read it
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).write({"snooze_until": until})
        conversation.with_user(self.dispatcher).action_assign(self.member)
        conversation.with_user(self.member).action_snooze(until)
        with self.assertRaises(AccessError):
            conversation.with_user(self.other).action_unsnooze()
        self.assertTrue(conversation.is_snoozed)
        conversation.with_user(self.dispatcher).action_unsnooze()
        self.assertFalse(conversation.is_snoozed)


@tagged("post_install", "-at_install")
class TestSnoozeJson2(HttpCase):
    """Over JSON-2, as integrators and attackers call it: a member of another box's department cannot snooze
    (nor resume) a conversation of this box; its assignee and its dispatcher can."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.assignee = new_test_user(cls.env, "cmk_snooze_assignee", groups=groups)
        cls.dispatcher = new_test_user(cls.env, "cmk_snooze_dispatcher", groups=groups)
        cls.stranger = new_test_user(cls.env, "cmk_snooze_stranger", groups=groups)
        support, sales = cls.env["hr.department"].create([{"name": "Snooze support"}, {"name": "Snooze sales"}])
        cls.env["hr.employee"].create(
            [
                {"name": "Assignee", "user_id": cls.assignee.id, "department_id": support.id},
                {"name": "Stranger", "user_id": cls.stranger.id, "department_id": sales.id},
            ]
        )
        Account = cls.env["comunik.mail.account"]
        box = {"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1", "category": "shared"}
        cls.support = Account.create(
            {
                **box,
                "email": "snooze-support@example.test",
                "department_ids": [(6, 0, support.ids)],
                "dispatcher_ids": [(6, 0, cls.dispatcher.ids)],
            }
        )
        Account.create({**box, "email": "snooze-sales@example.test", "department_ids": [(6, 0, sales.ids)]})
        cls.conversation = cls.env[CONVERSATION].create({"account_id": cls.support.id, "subject": "Garantie"})
        cls.conversation.action_assign(cls.assignee)
        expiry = datetime.now() + timedelta(days=1)
        cls.keys = {
            user: cls.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "snooze", expiry)
            for user in (cls.assignee, cls.dispatcher, cls.stranger)
        }

    def call(self, user, method, **payload):
        response = self.url_open(
            f"/json/2/{CONVERSATION}/{method}",
            data=json.dumps({"ids": self.conversation.ids, **payload}),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {self.keys[user]}"},
            timeout=60,
        )
        return response.status_code, response.json()

    def test_rights_over_json2(self):
        until = (datetime.now() + timedelta(days=2)).replace(microsecond=0)
        with mute_logger("odoo.http"):
            status, body = self.call(self.stranger, "action_snooze", until=str(until))
        self.assertEqual(body["name"], "odoo.exceptions.AccessError", body)
        self.conversation.invalidate_recordset()
        self.assertFalse(self.conversation.snooze_until, "nothing changed")
        with mute_logger("odoo.http"):
            status, body = self.call(self.stranger, "write", vals={"snooze_until": str(until)})
        self.assertEqual(body["name"], "odoo.exceptions.AccessError", body)

        status, body = self.call(self.assignee, "action_snooze", until=str(until), wake_on_reply=False)
        self.assertEqual(status, 200, body)
        self.conversation.invalidate_recordset()
        self.assertEqual((self.conversation.snooze_until, self.conversation.snooze_wake_on_reply), (until, False))
        with mute_logger("odoo.http"):
            status, body = self.call(self.stranger, "action_unsnooze")
        self.assertEqual(body["name"], "odoo.exceptions.AccessError", body)
        with mute_logger("odoo.http"):
            status, body = self.call(self.assignee, "action_snooze", until="2126-01-01 00:00:00")
        self.assertEqual(body["name"], "odoo.exceptions.UserError", body)
        status, body = self.call(self.dispatcher, "action_unsnooze")
        self.assertEqual(status, 200, body)
        self.conversation.invalidate_recordset()
        self.assertFalse(self.conversation.snooze_until)


@tagged("post_install", "-at_install")
class TestSnoozeTour(HttpCase):
    """In French, the assignee snoozes an email from its form (« Lundi prochain 9h »): it leaves the inbox and
    shows under the « En attente » counter of the banner, then « Reprendre » brings it back."""

    def test_assignee_snoozes_from_the_form(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        member = new_test_user(
            self.env, "cmk_snooze_tour", groups=groups, lang="fr_FR", tz="Europe/Paris", name="Julie Martin"
        )
        department = self.env["hr.department"].create({"name": "Support client"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-snooze@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        conversations = self.env[CONVERSATION].create(
            [
                {"account_id": account.id, "subject": "Relance facture impayée"},
                {"account_id": account.id, "subject": "Demande de devis"},
            ]
        )
        conversations.action_assign(member)
        self.env["comunik.mail.banner.config"].create({"user_id": member.id, "show_snoozed": True})
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_snooze_tour",
            login="cmk_snooze_tour",
        )
        snoozed = conversations[0]
        self.assertFalse(snoozed.is_snoozed, "« Reprendre » at the end of the tour")
        monday = snooze.preset("next_monday", datetime.now(), "Europe/Paris")
        when = format_datetime(self.env, monday, tz="Europe/Paris", dt_format="short", lang_code="fr_FR")
        notes = snoozed.message_ids.mapped("body")
        self.assertTrue(any(f"Mis en attente jusqu'au {when} par Julie Martin" in body for body in notes), notes)
        self.assertTrue(any("Fin de la mise en attente, par Julie Martin." in body for body in notes), notes)
        self.assertFalse(conversations[1].message_ids.filtered(lambda m: "attente" in (m.body or "")))
