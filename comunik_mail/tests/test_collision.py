import json
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ComunikSyncCase
from .test_compose import customer_email

ACTIVITY = "comunik.mail.conversation.activity"
CONVERSATION = "comunik.mail.conversation"


@tagged("post_install", "-at_install")
class TestCollision(ComunikSyncCase):
    """Who is viewing / replying (stored, expiring, broadcast to the box's readers only) and the send guard of
    replies (a customer email or a colleague's reply arrived after the composer opened), on real mail."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        self.personal = self.create_account(user=self.owner)
        self.send_for_real()
        _id, raw = customer_email(self.shared.email)
        self.conversation = self.receive(raw)
        self.conversation.with_user(self.dispatcher).action_assign(self.member)
        self.smtp.clear()

    def receive(self, raw):
        self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()
        return self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)], limit=1)

    def bus_rows(self):
        self.env.flush_all()
        self.env.cr.precommit.run()  # bus.bus rows are created at commit
        rows = self.env["bus.bus"].sudo().search([], order="id")
        return [
            (json.loads(row.channel), json.loads(row.message))
            for row in rows
            if json.loads(row.message)["type"] == "comunik_mail.activity"
        ]

    def clear_bus(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env["bus.bus"].sudo().search([]).unlink()

    def live(self, user, now=None):
        conversation = self.conversation.with_user(user).with_context(comunik_now=now or fields.Datetime.now())
        conversation.invalidate_recordset(["live_activity"])
        return [(entry["name"], entry["activity"]) for entry in conversation.live_activity or []]

    # ------------------------------------------------------------------ live activity

    def test_viewing_is_stored_and_broadcast_to_those_who_see_the_box(self):
        self.clear_bus()
        self.conversation.with_user(self.member).comunik_set_activity("viewing")
        row = self.env[ACTIVITY].search([("conversation_id", "=", self.conversation.id)])
        self.assertEqual((row.user_id, row.activity), (self.member, "viewing"))
        sent = self.bus_rows()
        partners = {channel[2] for channel, _message in sent}
        self.assertEqual({channel[1] for channel, _message in sent}, {"res.partner"}, "each user's own channel")
        self.assertIn(self.dispatcher.partner_id.id, partners)
        self.assertIn(self.admin.partner_id.id, partners)
        self.assertNotIn(self.member.partner_id.id, partners, "not to the one who announced it")
        self.assertNotIn(self.other.partner_id.id, partners, "not to a user who does not see the box")
        self.assertNotIn(self.owner.partner_id.id, partners, "not to the owner of another box")
        payload = sent[0][1]["payload"]
        self.assertEqual(payload["conversation_id"], self.conversation.id)
        self.assertEqual(len(payload["activities"]), 1)
        entry = payload["activities"][0]
        self.assertEqual(
            (entry["user_id"], entry["name"], entry["activity"]), (self.member.id, self.member.name, "viewing")
        )
        self.assertGreater(entry["expires_in"], 50)
        self.assertEqual(self.live(self.dispatcher), [(self.member.name, "viewing")])
        self.assertEqual(self.live(self.member), [], "nobody is told about themselves")

    def test_replying_then_leaving(self):
        self.conversation.with_user(self.member).comunik_set_activity("viewing")
        self.conversation.with_user(self.member).comunik_set_activity("replying")
        self.conversation.with_user(self.dispatcher).comunik_set_activity("viewing")
        self.assertEqual(self.env[ACTIVITY].search_count([("conversation_id", "=", self.conversation.id)]), 2)
        self.assertEqual(self.live(self.admin), [(self.member.name, "replying"), (self.dispatcher.name, "viewing")])
        self.assertEqual(self.live(self.dispatcher), [(self.member.name, "replying")])
        self.clear_bus()
        self.conversation.with_user(self.member).comunik_set_activity("none")
        self.assertEqual(self.live(self.dispatcher), [])
        sent = self.bus_rows()
        self.assertTrue(sent, "leaving is broadcast too")
        self.assertEqual([entry["user_id"] for entry in sent[-1][1]["payload"]["activities"]], [self.dispatcher.id])
        with self.assertRaises(UserError):
            self.conversation.with_user(self.member).comunik_set_activity("sleeping")

    def test_stale_activity_expires_without_heartbeat(self):
        start = fields.Datetime.now()
        member_conv = self.conversation.with_user(self.member)
        member_conv.with_context(comunik_now=start).comunik_set_activity("viewing")
        self.assertEqual(self.live(self.dispatcher, start + timedelta(seconds=30)), [(self.member.name, "viewing")])
        self.assertEqual(self.live(self.dispatcher, start + timedelta(seconds=61)), [], "expired after 60 s")
        # The heartbeat (every 30 s) keeps it alive.
        member_conv.with_context(comunik_now=start + timedelta(seconds=50)).comunik_set_activity("viewing")
        self.assertEqual(self.live(self.dispatcher, start + timedelta(seconds=100)), [(self.member.name, "viewing")])
        self.assertEqual(self.live(self.dispatcher, start + timedelta(seconds=111)), [])
        # The autovacuum removes long-stale rows only.
        self.env[ACTIVITY].with_context(comunik_now=start + timedelta(minutes=30))._gc_stale()
        self.assertTrue(self.env[ACTIVITY].search([("conversation_id", "=", self.conversation.id)]))
        self.env[ACTIVITY].with_context(comunik_now=start + timedelta(hours=2))._gc_stale()
        self.assertFalse(self.env[ACTIVITY].search([("conversation_id", "=", self.conversation.id)]))

    @mute_logger("odoo.models")
    def test_user_of_another_box_cannot_set_or_see_activity(self):
        self.conversation.with_user(self.member).comunik_set_activity("viewing")
        self.clear_bus()
        with self.assertRaises(AccessError):
            self.conversation.with_user(self.owner).comunik_set_activity("viewing")
        with self.assertRaises(AccessError):
            self.conversation.with_user(self.other).comunik_set_activity("replying")
        self.assertEqual(self.env[ACTIVITY].search([]).user_id, self.member, "nothing stored for them")
        self.assertFalse(self.bus_rows(), "nothing broadcast")
        self.assertFalse(self.env[ACTIVITY].with_user(self.owner).search([]), "their record rules hide it")
        with self.assertRaises(AccessError):
            self.conversation.with_user(self.owner).read(["live_activity"])
        # The owner's own box: the member cannot announce anything there either.
        personal_conv = self.env["comunik.mail.conversation"].create(
            {"account_id": self.personal.id, "subject": "Perso"}
        )
        with self.assertRaises(AccessError):
            personal_conv.with_user(self.member).comunik_set_activity("viewing")
        personal_conv.with_user(self.owner).comunik_set_activity("viewing")
        self.assertEqual(self.env[ACTIVITY].with_user(self.member).search([]).user_id, self.member)

    # ------------------------------------------------------------------ send guard: « Répondre à tous »

    def open_reply_all(self, user):
        return Form(
            self.env["comunik.mail.compose"]
            .with_user(user)
            .with_context(
                default_mode="reply_all", active_model=self.conversation._name, active_id=self.conversation.id
            )
        )

    def test_guard_when_a_customer_email_arrives_after_the_composer_opened(self):
        form = self.open_reply_all(self.member)
        self.assertTrue(form.comunik_seen_message_id, "the composer records the newest message when it opens")
        form.body = "<p>Bonjour, nous regardons.</p>"
        wizard = form.save()
        _id, raw = customer_email(
            self.shared.email,
            subject="Re: Commande CMD-21007 non reçue",
            in_reply_to=self.conversation._last_email().message_id,
        )
        self.receive(raw)  # the real sync, while the member writes
        step = wizard.action_send()
        self.assertEqual(
            (step["type"], step["res_model"], step["res_id"]), ("ir.actions.act_window", wizard._name, wizard.id)
        )
        self.assertFalse(self.smtp.messages, "nothing sent before confirmation")
        wizard.invalidate_recordset()
        self.assertIn("Claire Dupont", wizard.comunik_newer_html)
        self.assertIn("pas reçu ma commande", wizard.comunik_newer_html)
        newest = self.conversation._last_email()
        self.assertEqual(wizard.comunik_newer_up_to, newest.id)
        # « Envoyer quand même »: the newest message shown is confirmed.
        result = wizard.with_context(comunik_confirm_up_to=wizard.comunik_newer_up_to).action_send()
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(len(self.smtp.wait_for(1)), 1)

    def test_guard_when_a_colleague_replied_and_asks_again_for_newer(self):
        form = self.open_reply_all(self.member)
        form.body = "<p>Ma réponse</p>"
        wizard = form.save()
        # A colleague's note is not a reply: no question.
        self.conversation.with_user(self.dispatcher).message_post(
            body="Note interne", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertFalse(wizard._collision_step())
        self.conversation.with_user(self.dispatcher).message_post(
            body="<p>Je m'en occupe, colis renvoyé.</p>", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.smtp.clear()  # the colleague's reply left for the customer
        step = wizard.action_send()
        self.assertEqual(step["res_id"], wizard.id)
        wizard.invalidate_recordset()
        self.assertIn(self.dispatcher.name, wizard.comunik_newer_html)
        self.assertIn("colis renvoyé", wizard.comunik_newer_html)
        confirmed = wizard.comunik_newer_up_to
        # Another customer email between the question and the click: asked again.
        _id, raw = customer_email(
            self.shared.email, subject="Re: Commande", in_reply_to=self.conversation._last_email().message_id
        )
        self.receive(raw)
        step = wizard.with_context(comunik_confirm_up_to=confirmed).action_send()
        self.assertEqual(step["type"], "ir.actions.act_window")
        wizard.invalidate_recordset()
        self.assertGreater(wizard.comunik_newer_up_to, confirmed)
        self.assertFalse(self.smtp.messages)
        wizard.with_context(comunik_confirm_up_to=wizard.comunik_newer_up_to).action_send()
        self.assertEqual(len(self.smtp.wait_for(1)), 1)

    def test_no_guard_without_news_own_messages_or_marker(self):
        form = self.open_reply_all(self.member)
        form.body = "<p>Réponse</p>"
        wizard = form.save()
        # The user's own reply in the chatter is no news to them.
        self.conversation.with_user(self.member).message_post(
            body="<p>Premier mot</p>", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.smtp.clear()
        result = wizard.action_send()
        self.assertEqual(result["tag"], "display_notification")
        # An API client without the marker: as before, whatever arrived.
        self.receive(customer_email(self.shared.email, subject="Re: Commande")[1])
        api = (
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .create(
                {
                    "mode": "reply_all",
                    "conversation_id": self.conversation.id,
                    "account_id": self.shared.id,
                    "partner_to_ids": [(6, 0, self.conversation.partner_id.ids)],
                    "subject": "Re: Commande",
                    "body": "<p>API</p>",
                }
            )
        )
        self.assertFalse(api.comunik_seen_message_id)
        self.assertEqual(api.action_send()["tag"], "display_notification")
        self.assertEqual(len(self.smtp.wait_for(2)), 2)

    # ------------------------------------------------------------------ send guard: chatter and full composer

    def test_guard_of_the_chatter_composer(self):
        seen = self.conversation._last_email().id
        self.conversation.with_user(self.dispatcher).message_post(
            body="<p>Réponse du collègue</p>", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        conversation = self.conversation.with_user(self.member)
        newer = conversation.comunik_newer_messages(seen)
        self.assertEqual([values["author"] for values in newer], [self.dispatcher.name])
        self.assertIn("Réponse du collègue", newer[0]["excerpt"])
        self.assertEqual(conversation.comunik_newer_messages(newer[0]["id"]), [])
        reply = {"body": "<p>Bonjour</p>", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"}
        with self.assertRaises(UserError) as caught:
            conversation.with_context(comunik_seen_message_id=seen).message_post(**reply)
        self.assertIn(self.dispatcher.name, str(caught.exception))
        self.assertIn("Réponse du collègue", str(caught.exception))
        # A note is never held back; a confirmed reply passes.
        conversation.with_context(comunik_seen_message_id=seen).message_post(
            body="Note", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        message = conversation.with_context(
            comunik_seen_message_id=seen, comunik_confirm_up_to=newer[0]["id"]
        ).message_post(**reply)
        self.assertEqual(message.author_id, self.member.partner_id)
        with self.assertRaises(AccessError):
            self.conversation.with_user(self.owner).comunik_newer_messages(seen)

    def test_guard_of_the_full_composer(self):
        composer_form = Form(
            self.env["mail.compose.message"]
            .with_user(self.member)
            .with_context(
                default_model=self.conversation._name,
                default_res_ids=self.conversation.ids,
                default_composition_mode="comment",
                default_subtype_xmlid="mail.mt_comment",
            )
        )
        # The newest message of any kind (the assignment's notification included).
        newest = self.env["mail.message"].search(
            [("model", "=", self.conversation._name), ("res_id", "=", self.conversation.id)], order="id desc", limit=1
        )
        self.assertEqual(composer_form.comunik_seen_message_id, newest.id)
        composer_form.body = "<p>Réponse complète</p>"
        composer = composer_form.save()
        self.receive(
            customer_email(
                self.shared.email, subject="Re: Commande", in_reply_to=self.conversation._last_email().message_id
            )[1]
        )
        self.conversation.invalidate_recordset(["message_ids"])
        before = self.conversation.message_ids
        step = composer.action_send_mail()
        self.assertEqual((step["res_model"], step["res_id"]), ("mail.compose.message", composer.id))
        self.conversation.invalidate_recordset(["message_ids"])
        self.assertEqual(self.conversation.message_ids - before, self.env["mail.message"], "not posted")
        composer.invalidate_recordset()
        self.assertIn("Claire Dupont", composer.comunik_newer_html)
        composer.with_context(comunik_confirm_up_to=composer.comunik_newer_up_to).action_send_mail()
        self.conversation.invalidate_recordset(["message_ids"])
        posted = self.conversation.message_ids - before
        self.assertEqual(len(posted), 1)
        self.assertIn("Réponse complète", posted.body)


@tagged("post_install", "-at_install")
class TestCollisionJson2(HttpCase):
    """Over JSON-2, as each user: only those who see the box announce or read who is on its conversations."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.member = new_test_user(cls.env, "cmk_coll_member", groups=groups, name="Julie Martin")
        cls.colleague = new_test_user(cls.env, "cmk_coll_colleague", groups=groups, name="Paul Durand")
        cls.outsider = new_test_user(cls.env, "cmk_coll_outsider", groups=groups, name="Octave Autre")
        cls.internal = new_test_user(cls.env, "cmk_coll_internal", groups="base.group_user", name="Ines Interne")
        department = cls.env["hr.department"].create({"name": "Collisions JSON-2"})
        cls.env["hr.employee"].create(
            [{"name": u.name, "user_id": u.id, "department_id": department.id} for u in (cls.member, cls.colleague)]
        )
        account = cls.env["comunik.mail.account"].create(
            {
                "email": "collisions-json2@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        cls.outsider_box = cls.env["comunik.mail.account"].create(
            {
                "email": "outsider@example.test",
                "category": "personal",
                "owner_id": cls.outsider.id,
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
            }
        )
        cls.conversation = cls.env[CONVERSATION].create({"account_id": account.id, "subject": "Colis"})
        expiry = datetime.now() + timedelta(days=1)
        cls.keys = {
            user: cls.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "collision", expiry)
            for user in (cls.member, cls.colleague, cls.outsider, cls.internal)
        }

    def call(self, user, model, method, **payload):
        response = self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {self.keys[user]}"},
            timeout=30,
        )
        return response.status_code, response.json()

    @mute_logger("odoo.http")
    def test_only_readers_of_the_box_set_and_see_activity(self):
        ids = self.conversation.ids
        status, body = self.call(self.member, CONVERSATION, "comunik_set_activity", ids=ids, activity="replying")
        self.assertEqual((status, body), (200, True))
        for user in (self.outsider, self.internal):
            status, body = self.call(user, CONVERSATION, "comunik_set_activity", ids=ids, activity="viewing")
            self.assertEqual(status, 403, body)
            self.assertEqual(body["name"], "odoo.exceptions.AccessError")
        self.env.invalidate_all()
        rows = self.env[ACTIVITY].search([("conversation_id", "=", self.conversation.id)])
        self.assertEqual(rows.mapped("user_id"), self.member, "refused calls stored nothing")
        # The colleague sees Julie replying; the outsider sees nothing, by any way.
        status, body = self.call(self.colleague, CONVERSATION, "read", ids=ids, fields=["live_activity"])
        self.assertEqual(status, 200)
        self.assertEqual([(e["name"], e["activity"]) for e in body[0]["live_activity"]], [("Julie Martin", "replying")])
        status, body = self.call(self.colleague, ACTIVITY, "search_read", domain=[], fields=["user_id", "activity"])
        self.assertEqual([(row["user_id"][0], row["activity"]) for row in body], [(self.member.id, "replying")])
        status, body = self.call(self.outsider, ACTIVITY, "search_read", domain=[], fields=["user_id", "activity"])
        self.assertEqual((status, body), (200, []))
        status, body = self.call(self.outsider, ACTIVITY, "read", ids=rows.ids, fields=["user_id"])
        self.assertEqual(status, 403, body)
        status, body = self.call(self.outsider, CONVERSATION, "read", ids=ids, fields=["live_activity"])
        self.assertEqual(status, 403, body)
        status, body = self.call(self.outsider, CONVERSATION, "comunik_newer_messages", ids=ids, seen_message_id=1)
        self.assertEqual(status, 403, body)
        status, body = self.call(self.internal, ACTIVITY, "search_read", domain=[], fields=["user_id"])
        self.assertEqual(status, 403, body)
        # Nobody writes the rows directly, not even their own.
        status, body = self.call(self.member, ACTIVITY, "write", ids=rows.ids, vals={"activity": "viewing"})
        self.assertEqual(status, 403, body)
        status, body = self.call(
            self.colleague,
            ACTIVITY,
            "create",
            vals_list=[{"conversation_id": self.conversation.id, "user_id": self.member.id, "activity": "viewing"}],
        )
        self.assertEqual(status, 403, body)
