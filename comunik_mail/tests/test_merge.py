import json
from datetime import UTC, datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ComunikSyncCase
from .test_sync import build_email

CONVERSATION = "comunik.mail.conversation"
BOB = "Bob Martin <bob.martin@client-martin.example>"


def reply_email(subject, in_reply_to, references=()):
    """A customer's reply threaded on ``in_reply_to`` (and ``references``) only."""
    return build_email(subject, in_reply_to=in_reply_to, references=references)[1]


@tagged("post_install", "-at_install")
class TestMerge(ComunikSyncCase):
    """Merge, unmerge and split on the real Dovecot: emails move, replies thread to where they are."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account(sync_period="week")
        self.env["res.lang"]._activate_lang("fr_FR")
        self.dispatcher.lang = "fr_FR"

    def receive(self, *raws, days_ago=0):
        self.env.flush_all()  # what the web client's requests committed before the sync's own cursor reads
        for raw in raws:
            self.dovecot.append(self.shared.email, raw, date=datetime.now(UTC) - timedelta(days=days_ago))
        self.shared.sudo()._sync()
        return self.env[CONVERSATION].search([("account_id", "=", self.shared.id)], order="date_first, id")

    def emails(self, conversation):
        return self.env["mail.message"].search(
            [("model", "=", CONVERSATION), ("res_id", "=", conversation.id), ("message_type", "=", "email")]
        )

    def as_dispatcher(self, records):
        """As the dispatcher, in French (the web client sends the user's language)."""
        return records.with_user(self.dispatcher).with_context(lang="fr_FR")

    def merge(self, conversations):
        return Form(
            self.as_dispatcher(self.env["comunik.mail.merge.wizard"]).with_context(
                active_model=CONVERSATION, active_ids=conversations.ids
            )
        )

    def test_merge_moves_emails_and_archives(self):
        self.receive(build_email("Commande CMD-1 non reçue")[1], days_ago=2)
        conversations = self.receive(
            build_email("Toujours rien", attachment=("bon.pdf", b"%PDF-1.4 bon", "application", "pdf"))[1]
        )
        target, source = conversations
        old = target.date_first
        moved = self.emails(source)
        attachment = moved.attachment_ids
        self.assertEqual(attachment.res_id, source.id)
        self.assertEqual(target.message_count + source.message_count, 2)
        source_date = moved.date

        wizard = self.merge(conversations)
        self.assertEqual(wizard.target_id, target, "the oldest conversation is kept by default")
        self.assertFalse(wizard.customers_differ)
        wizard.save().action_merge()

        self.assertEqual(moved.res_id, target.id)
        self.assertEqual(moved.date, source_date, "emails keep their dates")
        self.assertEqual(attachment.res_id, target.id, "attachments follow their email")
        self.assertEqual(target.message_count, 2)
        self.assertEqual(target.date_first, old)
        self.assertEqual(target.date_last, source_date)
        self.assertFalse(source.active)
        self.assertEqual(source.merged_into_id, target)
        self.assertEqual(target.merged_ids, source)
        self.assertIn("Fusionnée dans", source.message_ids[0].body)
        self.assertIn(target.subject, source.message_ids[0].body)
        self.assertIn("fusionnée ici", target.message_ids[0].body)
        self.assertTrue(target.can_unmerge)
        self.assertTrue(source.can_unmerge)
        # Archived: gone from the inbox, the banner counters and the statistics, consistently.
        Conversation = self.env[CONVERSATION].with_user(self.dispatcher)
        self.assertEqual(Conversation.search([("account_id", "=", self.shared.id)]), target)
        banner = self.env["comunik.mail.banner.config"].with_user(self.dispatcher).get_banner()
        unassigned = next(c["count"] for c in banner["counters"] if c["key"] == "unassigned")
        self.assertEqual(unassigned, 1)
        self.env.flush_all()
        statistics = self.env["comunik.mail.statistics"].search([("account_id", "=", self.shared.id)])
        self.assertEqual(statistics.conversation_id, target)

    def test_different_boxes_are_refused(self):
        other_box = self.create_shared_account()
        mine = self.receive(build_email("Devis")[1])
        self.dovecot.append(other_box.email, build_email("Devis")[1])
        other_box.sudo()._sync()
        theirs = self.env[CONVERSATION].search([("account_id", "=", other_box.id)])
        with self.assertRaisesRegex(
            UserError, "Seules les conversations d'une même boîte mail peuvent être fusionnées"
        ):
            self.as_dispatcher(theirs).action_merge(mine.id)
        self.assertTrue(mine.active and theirs.active)
        self.assertEqual(theirs.message_count, 1)
        # The wizard says so before anyone clicks, and offers no « Fusionner ».
        wizard = self.merge(mine | theirs)
        self.assertIn("Seules les conversations d'une même boîte mail peuvent être fusionnées", wizard.boxes_problem)
        self.assertIn(other_box.email, wizard.boxes_problem)

    def test_different_customers_warn_and_need_confirmation(self):
        conversations = self.receive(build_email("Panne")[1], build_email("Panne aussi", sender=BOB)[1])
        wizard = self.merge(conversations)
        self.assertTrue(wizard.customers_differ)
        self.assertIn("Bob Martin", wizard.customer_names)
        self.assertIn("Claire Dupont", wizard.customer_names)
        record = wizard.save()
        with self.assertRaisesRegex(UserError, "pas du même client"):
            record.action_merge()
        self.assertTrue(all(conversations.mapped("active")))
        record.confirm_customers = True
        record.action_merge()
        self.assertEqual(conversations.filtered("active"), record.target_id)
        # The warning is shown in French in the wizard's form.
        arch = self.env["comunik.mail.merge.wizard"].with_context(lang="fr_FR").get_view()["arch"]
        self.assertIn("Les clients sont différents", arch)
        self.assertIn("Fusionner quand même", arch)

    def test_replies_after_merge_land_in_target_and_after_unmerge_in_the_restored_one(self):
        """Real ingestion: replies to the customer's email and to our reply sent from the merged-away conversation."""
        self.send_for_real()
        target_first_id, target_first = build_email("Facture F-100")
        source_first_id, source_first = build_email("Facture F-100 en double")
        target, source = self.receive(target_first, source_first)
        source.with_user(self.dispatcher).action_assign(self.member)
        reply = source.with_user(self.member).message_post(
            body="<p>Nous regardons.</p>",
            partner_ids=source.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)]).send()
        self.smtp.wait_for(1)
        outgoing_id = reply.message_id
        original = self.emails(source) | reply

        self.as_dispatcher(source).action_merge(target.id)
        self.assertEqual(reply.res_id, target.id, "the reply sent from the merged-away conversation moved too")

        answer_to_reply = reply_email("Re: Facture F-100 en double", outgoing_id)  # our reply's Message-ID only
        _id, answer_to_customer_email = build_email("Re: Facture F-100 en double", in_reply_to=source_first_id)
        conversations = self.receive(answer_to_reply, answer_to_customer_email)
        self.assertEqual(conversations, target, "no new conversation: both replies are in the target")
        self.assertEqual(target.message_count, 4)
        arrived_after_merge = (
            self.emails(target) - original - self.emails(target).filtered(lambda m: m.message_id == target_first_id)
        )
        self.assertEqual(len(arrived_after_merge), 2)

        self.as_dispatcher(target).action_unmerge()
        self.assertTrue(source.active)
        self.assertFalse(source.merged_into_id)
        self.assertEqual(self.emails(source) | reply, original, "exactly its own emails back")
        self.assertEqual(reply.res_id, source.id)
        self.assertEqual(arrived_after_merge.mapped("res_id"), [target.id, target.id], "later emails stay")
        self.assertFalse(target.can_unmerge)

        after_unmerge = reply_email("Re: Facture F-100 en double", outgoing_id)
        self.receive(after_unmerge)
        self.assertEqual(len(self.emails(source)), 2, "a reply after the unmerge lands in the restored conversation")
        self.assertEqual(len(self.emails(target)), 3)
        self.assertTrue(target_first_id)

    def test_reply_to_a_message_left_on_the_archived_conversation_goes_to_the_target(self):
        target, source = self.receive(build_email("Relance")[1], build_email("Relance 2")[1])
        note = source.with_user(self.dispatcher).message_post(
            body="Note", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.as_dispatcher(source).action_merge(target.id)
        self.assertEqual(note.res_id, source.id, "notes stay with their conversation")
        raw = reply_email("Re: Relance 2", note.message_id)
        self.assertEqual(self.receive(raw), target)
        self.assertEqual(target.message_count, 3)

    def test_unmerge_restores_exactly(self):
        conversations = self.receive(
            build_email("A")[1],
            build_email("B", attachment=("b.txt", b"B", "text", "plain"))[1],
            build_email("C")[1],
        )
        target, second, third = conversations
        before = {c: self.emails(c) for c in conversations}
        dates = {c: (c.date_first, c.date_last) for c in conversations}
        attachment = before[second].attachment_ids
        self.as_dispatcher(second | third).action_merge(target.id)
        self.assertEqual(target.message_count, 3)
        self.assertFalse(second.active or third.active)

        self.as_dispatcher(second).action_unmerge()  # from the archived one: only itself
        self.assertTrue(second.active)
        self.assertFalse(third.active)
        self.assertEqual(self.emails(second), before[second])
        self.assertEqual(attachment.res_id, second.id)
        self.assertEqual(self.emails(target), before[target] | before[third])
        self.assertIn("annulée", second.message_ids[0].body)

        self.as_dispatcher(target).action_unmerge()  # from the target: the rest
        for conversation in conversations:
            self.assertTrue(conversation.active)
            self.assertEqual(self.emails(conversation), before[conversation])
            self.assertEqual((conversation.date_first, conversation.date_last), dates[conversation])
        with self.assertRaisesRegex(UserError, "Il n'y a aucune fusion à annuler"):
            self.as_dispatcher(target).action_unmerge()

    def test_unmerge_refused_after_30_days(self):
        target, source = self.receive(build_email("Retour")[1], build_email("Retour 2")[1])
        self.as_dispatcher(source).action_merge(target.id)
        now = fields.Datetime.now()
        later = target.with_context(comunik_now=now + timedelta(days=29))
        self.assertTrue(later.can_unmerge)
        too_late = self.as_dispatcher(target).with_context(comunik_now=now + timedelta(days=31))
        self.assertFalse(too_late.can_unmerge, "the button is gone")
        self.assertFalse(source.with_context(comunik_now=now + timedelta(days=31)).can_unmerge)
        with self.assertRaisesRegex(UserError, "30 jours"):
            too_late.action_unmerge()
        with self.assertRaises(UserError):
            self.as_dispatcher(source).with_context(comunik_now=now + timedelta(days=31)).action_unmerge()
        self.assertFalse(source.active)
        self.assertEqual(target.message_count, 2)

    def test_split_creates_a_new_unassigned_conversation(self):
        first_id, first = build_email("Accès bloqué")
        _id, other_question = build_email("Re: Accès bloqué", in_reply_to=first_id, body="Autre sujet : ma facture")
        conversation = self.receive(first, other_question)
        conversation.with_user(self.dispatcher).action_assign(self.member)
        self.assertEqual(conversation.message_count, 2)
        email = self.emails(conversation).filtered(lambda m: m.message_id != first_id)
        with self.assertRaises(AccessError):
            email.with_user(self.other).action_comunik_split()
        action = email.with_user(self.member).with_context(lang="fr_FR").action_comunik_split()  # the assignee works it
        new = self.env[CONVERSATION].browse(action["res_id"])
        self.assertEqual(new.account_id, self.shared)
        self.assertEqual(new.state, "unassigned")
        self.assertFalse(new.user_id)
        self.assertEqual(email.res_id, new.id)
        self.assertEqual((new.date_first, new.date_last), (email.date, email.date))
        self.assertEqual(new.partner_id, email.author_id)
        self.assertEqual((conversation.message_count, new.message_count), (1, 1))
        self.assertIn(new.subject, conversation.message_ids[0].body)
        self.assertIn(conversation.subject, new.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "seul email"):
            self.emails(conversation).with_user(self.member).with_context(lang="fr_FR").action_comunik_split()
        # The customer's next reply to the split email goes on in the new conversation.
        raw = reply_email("Re: Re: Accès bloqué", email.message_id)
        self.receive(raw)
        self.assertEqual(new.message_count, 2)

    def test_rights(self):
        conversations = self.receive(build_email("X")[1], build_email("Y")[1])
        target, source = conversations
        with self.assertRaises(AccessError):
            source.with_user(self.member).action_merge(target.id)  # not their conversations: dispatchers only
        with self.assertRaises(AccessError):
            source.with_user(self.other).action_merge(target.id)  # cannot even see the box
        conversations.with_user(self.dispatcher).action_assign(self.member)
        source.with_user(self.member).action_merge(target.id)  # the assignee of both works them
        with self.assertRaises(AccessError):
            target.with_user(self.other).action_unmerge()
        self.assertFalse(source.active)


@tagged("post_install", "-at_install")
class TestMergeJson2(HttpCase):
    """Over JSON-2, as each role: a member of another box can neither merge, unmerge nor split, nor pass ids of
    conversations of a box they do not see; the dispatcher can."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.dispatcher = new_test_user(env, "cmk_merge_dispatcher", groups=groups)
        cls.outsider = new_test_user(env, "cmk_merge_outsider", groups=groups)
        departments = env["hr.department"].create([{"name": "Merge A"}, {"name": "Merge B"}])
        env["hr.employee"].create({"name": "Outsider", "user_id": cls.outsider.id, "department_id": departments[1].id})
        Account = env["comunik.mail.account"]
        box = {"category": "shared", "imap_host": "127.0.0.1", "smtp_host": "127.0.0.1"}
        cls.box_a = Account.create(
            {
                **box,
                "email": "a@merge.test",
                "department_ids": [(6, 0, departments[0].ids)],
                "dispatcher_ids": [(6, 0, cls.dispatcher.ids)],
            }
        )
        cls.box_b = Account.create({**box, "email": "b@merge.test", "department_ids": [(6, 0, departments[1].ids)]})
        now = fields.Datetime.now()
        cls.a1, cls.a2, cls.a3, cls.b1 = env[CONVERSATION].create(
            [
                {"account_id": account.id, "subject": subject, "date_first": now, "date_last": now}
                for account, subject in ((cls.box_a, "A1"), (cls.box_a, "A2"), (cls.box_a, "A3"), (cls.box_b, "B1"))
            ]
        )
        cls.mails = env["mail.message"].create(
            [
                {
                    "model": CONVERSATION,
                    "res_id": conversation.id,
                    "message_type": "email",
                    "body": conversation.subject,
                    "message_id": f"<{conversation.subject}@merge.test>",
                }
                for conversation in (cls.a1, cls.a1, cls.a2, cls.a3, cls.b1)
            ]
        )
        expiry = datetime.now() + timedelta(days=1)
        cls.keys = {
            user: env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "merge", expiry)
            for user in (cls.dispatcher, cls.outsider)
        }

    def call(self, user, model, method, **payload):
        response = self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {self.keys[user]}"},
            timeout=60,
        )
        return response.status_code, response.json()

    def state(self):
        self.env.invalidate_all()
        conversations = (self.a1 | self.a2 | self.a3 | self.b1).with_context(active_test=False)
        return [
            (c.active, c.merged_into_id.id, sorted(self.mails.filtered(lambda m, c=c: m.res_id == c.id).ids))
            for c in conversations
        ]

    @mute_logger("odoo.http")
    def test_roles(self):
        before = self.state()
        refused = [
            (self.outsider, CONVERSATION, "action_merge", {"ids": self.a1.ids, "target_id": self.a2.id}),
            # ids of a box the dispatcher does not see, mixed with their own
            (self.dispatcher, CONVERSATION, "action_merge", {"ids": self.a1.ids, "target_id": self.b1.id}),
            (self.dispatcher, CONVERSATION, "action_merge", {"ids": self.b1.ids, "target_id": self.a1.id}),
            (self.outsider, "mail.message", "action_comunik_split", {"ids": self.mails[0].ids}),
            (self.dispatcher, "mail.message", "action_comunik_split", {"ids": self.mails[4].ids}),
        ]
        for user, model, method, payload in refused:
            status, body = self.call(user, model, method, **payload)
            self.assertEqual((status, body.get("name")), (403, "odoo.exceptions.AccessError"), (method, body))
            self.assertEqual(self.state(), before, f"{method} as {user.login} changed nothing")

        status, body = self.call(self.dispatcher, CONVERSATION, "action_merge", ids=self.a2.ids, target_id=self.a1.id)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.a2.merged_into_id, self.a1)
        merged = self.state()
        status, body = self.call(self.outsider, CONVERSATION, "action_unmerge", ids=self.a1.ids)
        self.assertEqual(body.get("name"), "odoo.exceptions.AccessError", body)
        status, body = self.call(self.outsider, CONVERSATION, "action_unmerge", ids=self.a2.ids)
        self.assertEqual(body.get("name"), "odoo.exceptions.AccessError", body)
        self.assertEqual(self.state(), merged)
        status, body = self.call(self.dispatcher, CONVERSATION, "action_unmerge", ids=self.a2.ids)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.state(), before)

        status, body = self.call(self.dispatcher, "mail.message", "action_comunik_split", ids=self.mails[1].ids)
        self.assertEqual(status, 200, body)
        self.env.invalidate_all()
        new = self.env[CONVERSATION].browse(body["res_id"])
        self.assertEqual((new.account_id, new.state), (self.box_a, "unassigned"))
        self.assertEqual(self.mails[1].res_id, new.id)


@tagged("post_install", "-at_install")
class TestMergeTour(HttpCase):
    """In French, a dispatcher selects two conversations in the list and merges them, past the warning."""

    def test_dispatcher_merges_from_the_list(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        dispatcher = new_test_user(self.env, "cmk_tour_merge", groups=groups, lang="fr_FR", name="Denis Dispatcheur")
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-merge@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "dispatcher_ids": [(6, 0, dispatcher.ids)],
            }
        )
        claire, bob = self.env["res.partner"].create([{"name": "Claire Dupont"}, {"name": "Bob Martin"}])
        now = fields.Datetime.now()
        older, newer = self.env[CONVERSATION].create(
            [
                {
                    "account_id": account.id,
                    "subject": "Colis abîmé",
                    "partner_id": claire.id,
                    "date_first": now - timedelta(hours=2),
                    "date_last": now - timedelta(hours=2),
                },
                {
                    "account_id": account.id,
                    "subject": "Colis abîmé (photos)",
                    "partner_id": bob.id,
                    "date_first": now,
                    "date_last": now,
                },
            ]
        )
        email = self.env["mail.message"].create(
            {"model": CONVERSATION, "res_id": newer.id, "message_type": "email", "body": "Photos"}
        )
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_merge_tour",
            login="cmk_tour_merge",
        )
        self.assertFalse(newer.active)
        self.assertEqual(newer.merged_into_id, older)
        self.assertEqual(email.res_id, older.id)

    def test_dispatcher_splits_an_email_from_the_form(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        dispatcher = new_test_user(self.env, "cmk_tour_split", groups=groups, lang="fr_FR", name="Denis Dispatcheur")
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-split@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "dispatcher_ids": [(6, 0, dispatcher.ids)],
            }
        )
        now = fields.Datetime.now()
        conversation = self.env[CONVERSATION].create(
            {"account_id": account.id, "subject": "Livraison", "date_first": now, "date_last": now}
        )
        first, other = self.env["mail.message"].create(
            [
                {
                    "model": CONVERSATION,
                    "res_id": conversation.id,
                    "message_type": "email",
                    "subject": subject,
                    "body": subject,
                    "date": now,
                }
                for subject in ("Livraison", "Autre sujet : ma facture")
            ]
        )
        self.start_tour(
            f"/odoo/action-comunik_mail.action_comunik_mail_conversation/{conversation.id}",
            "comunik_mail_split_tour",
            login="cmk_tour_split",
        )
        self.assertEqual(first.res_id, conversation.id)
        new = self.env[CONVERSATION].browse(other.res_id)
        self.assertNotEqual(new, conversation)
        self.assertEqual((new.account_id, new.state, new.subject), (account, "unassigned", "Autre sujet : ma facture"))
