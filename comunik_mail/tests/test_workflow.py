from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import ComunikSyncCase
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestWorkflow(ComunikSyncCase):
    """Dispatch, statuses, reopening, deadlines and mark-as-read on the real Dovecot."""

    def setUp(self):
        super().setUp()
        # A new mailbox per test: Dovecot keeps its mail when the test's transaction is rolled back.
        self.shared = self.create_shared_account(mark_read_on_assign=True)

    def flush_tracking(self):
        """Tracking values are written at commit time: run the precommit hooks as a commit would."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def receive(self, *raws):
        for raw in raws:
            self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()
        return self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)], order="id")

    def test_dispatch_rules(self):
        conversation = self.receive(build_email("Panne de l'imprimante")[1])
        self.assertEqual((conversation.state, conversation.is_new), ("unassigned", True))
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).action_assign(self.member)
        with self.assertRaises(AccessError):
            conversation.with_user(self.member).write({"user_id": self.member.id, "state": "assigned"})
        with self.assertRaises(UserError):
            conversation.with_user(self.dispatcher).action_assign(self.other)  # not in the departments
        conversation.with_user(self.dispatcher).action_assign(self.member, priority="2")
        self.assertEqual(conversation.state, "assigned")
        self.assertEqual(conversation.user_id, self.member)
        self.assertEqual(conversation.priority, "2")
        self.assertFalse(conversation.is_new, "assigning removes the « Nouveau » badge")
        notified = self.env["mail.message"].search(
            [
                ("model", "=", conversation._name),
                ("res_id", "=", conversation.id),
                ("message_type", "=", "user_notification"),
            ]
        )
        self.assertIn(self.member.partner_id, notified.partner_ids)
        self.flush_tracking()
        tracked = conversation.message_ids.tracking_value_ids.mapped("field_id.name")
        self.assertIn("user_id", tracked)
        self.assertIn("state", tracked)

    def test_assign_through_the_wizard_offers_only_members(self):
        conversations = self.receive(build_email("Devis A")[1], build_email("Devis B")[1])
        wizard = Form(
            self.env["comunik.mail.assign.wizard"]
            .with_user(self.dispatcher)
            .with_context(active_model="comunik.mail.conversation", active_ids=conversations.ids)
        )
        self.assertEqual(wizard.allowed_user_ids[:], self.member)
        wizard.user_id = self.member
        wizard.save().action_assign()
        self.assertEqual(conversations.mapped("user_id"), self.member)

    def test_transitions_and_reopening(self):
        first_id, first = build_email("Accès bloqué")
        conversation = self.receive(first)
        conversation.with_user(self.dispatcher).action_assign(self.member)
        self.flush_tracking()  # each button is its own transaction in the UI
        mine = conversation.with_user(self.member)
        mine.action_start()
        self.flush_tracking()
        self.assertEqual(conversation.state, "in_progress")
        mine.action_to_process()
        self.flush_tracking()
        self.assertEqual(conversation.state, "to_process")
        with self.assertRaises(AccessError):
            conversation.with_user(self.other).action_close()
        mine.action_close()
        self.flush_tracking()
        self.assertEqual(conversation.state, "closed")
        self.assertTrue(conversation.close_date)
        tracked = conversation.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertGreaterEqual(len(tracked), 4, "every transition is tracked in the chatter")

        _reply_id, reply = build_email("Re: Accès bloqué", in_reply_to=first_id, references=[first_id])
        self.receive(reply)
        self.assertEqual(conversation.state, "assigned", "a customer reply reopens to the last assignee")
        self.assertEqual(conversation.user_id, self.member)

    def test_reopen_without_assignee_goes_back_to_unassigned(self):
        conversation = self.receive(build_email("Sans suite")[1])
        conversation.with_user(self.dispatcher).action_close()
        conversation.with_user(self.dispatcher).action_reopen()
        self.assertEqual(conversation.state, "unassigned")

    def test_assignment_marks_read_on_the_server(self):
        self.receive(build_email("À lire")[1], build_email("À lire aussi")[1])
        conversations = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        self.assertTrue(all(r"\Seen" not in flags for flags in self.dovecot.flags(self.shared.email).values()))
        conversations[0].with_user(self.dispatcher).action_assign(self.member)
        flags = self.dovecot.flags(self.shared.email)
        seen = [uid for uid, values in flags.items() if r"\Seen" in values]
        self.assertEqual(len(seen), 1, "only the assigned email is marked read")

        self.shared.sudo().mark_read_on_assign = False
        conversations[1].with_user(self.dispatcher).action_assign(self.member)
        self.assertEqual(sum(r"\Seen" in values for values in self.dovecot.flags(self.shared.email).values()), 1)

    def test_assignment_after_mailbox_recreation_marks_the_right_email(self):
        """Stored UIDs mean nothing after a UIDVALIDITY change: the email is found again by its Message-ID."""
        wanted_id, wanted = build_email("À retrouver")
        _other_id, other = build_email("Autre")
        conversation = self.receive(wanted)
        self.dovecot.remove_user(self.shared.email)
        self.dovecot.add_user(self.shared.email, "S3cret-pass")
        self.dovecot.append(self.shared.email, other)  # takes the UID the stored email had
        self.dovecot.append(self.shared.email, wanted)
        conversation.with_user(self.dispatcher).action_assign(self.member)
        flags = self.dovecot.flags(self.shared.email)
        self.assertEqual(flags[1], (), "the email now at the old UID stays unread")
        self.assertIn(r"\Seen", flags[2], f"{wanted_id} is found by its Message-ID")

    def test_overdue_with_and_without_working_hours(self):
        conversation = self.receive(build_email("Urgent")[1])
        received = datetime(2026, 11, 20, 16, 0)  # a Friday, 16:00 UTC
        conversation.sudo().date_first = received
        self.shared.sudo().response_delay = 4
        self.assertEqual(conversation.deadline, received + timedelta(hours=4))
        Conversation = self.env["comunik.mail.conversation"]
        late = Conversation.with_context(comunik_now=received + timedelta(hours=5))
        self.assertTrue(late.browse(conversation.id).is_overdue)
        self.assertIn(conversation, late.search([("is_overdue", "=", True)]))
        early = Conversation.with_context(comunik_now=received + timedelta(hours=3))
        self.assertNotIn(conversation, early.search([("is_overdue", "=", True)]))

        calendar = self.env["resource.calendar"].create({"name": "Support 8h-17h", "tz": "UTC"})
        self.department.resource_calendar_id = calendar
        # Friday 16:00 + 4 working hours: 1 h on Friday (until 17:00), 3 h on Monday from 8:00.
        self.assertEqual(conversation.deadline, datetime(2026, 11, 23, 11, 0))
        conversation.with_user(self.dispatcher).action_close()
        self.assertNotIn(conversation, late.search([("is_overdue", "=", True)]), "closed is never overdue")
