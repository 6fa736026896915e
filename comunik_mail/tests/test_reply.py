from email import message_from_bytes
from email import policy as email_policy

from odoo.tests import tagged

from .common import SMTPS_PORT, ComunikSyncCase
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestReply(ComunikSyncCase):
    """Replies leave through the account's SMTP (real sink) with the shared address and thread back."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        self.send_for_real()

    def receive(self, raw):
        self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()

    def reply(self, conversation, body):
        message = conversation.with_user(self.member).message_post(
            body=body,
            partner_ids=conversation.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        return message

    def test_reply_from_shared_address_threads_back(self):
        customer_id, raw = build_email("Commande CMD-21007 non reçue", to=self.shared.email)
        self.receive(raw)
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        conversation.with_user(self.dispatcher).action_assign(self.member)

        message = self.reply(conversation, "<p>Bonjour, votre colis part aujourd'hui.</p>")
        captured = self.smtp.wait_for(1)[-1]
        email = message_from_bytes(captured["data"], policy=email_policy.default)
        self.assertEqual(captured["port"], SMTPS_PORT)
        self.assertEqual(captured["auth_login"], self.shared.email, "sent through the account's own SMTP login")
        self.assertIn(self.shared.email, email["From"])
        self.assertIn(self.member.name, email["From"])
        self.assertEqual(message.author_id, self.member.partner_id, "the author stays the member")
        self.assertEqual(email["Message-ID"], message.message_id)
        self.assertEqual(email["In-Reply-To"], customer_id)
        self.assertIn(customer_id, email["References"])
        self.assertIn("claire.dupont@client-dupont.example", captured["rcpt_tos"])
        self.assertTrue(conversation.first_response_date)
        self.assertGreaterEqual(conversation.first_response_hours, 0)

        _answer_id, answer = build_email(
            "Re: Commande CMD-21007 non reçue",
            to=self.shared.email,
            in_reply_to=email["Message-ID"],
            references=[customer_id, email["Message-ID"]],
            body="Merci, bien reçu.",
        )
        self.receive(answer)
        self.assertEqual(
            self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)]), conversation
        )
        self.assertEqual(conversation.message_count, 2)

    def test_note_is_not_a_response(self):
        self.receive(build_email("Question interne", to=self.shared.email)[1])
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        conversation.with_user(self.dispatcher).message_post(
            body="Note", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertFalse(conversation.first_response_date)
        self.assertFalse(self.smtp.messages)

    def test_sending_failure_is_explained_in_french_and_resent(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.member.lang = "fr_FR"
        self.receive(build_email("Réclamation", to=self.shared.email)[1])
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        good_password = self.shared.imap_password
        self.shared.mail_server_id.sudo().smtp_pass = "wrong"
        message = self.reply(conversation, "<p>Réponse</p>")
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.state, "exception")
        self.assertIn(f"L'envoi depuis {self.shared.email} a échoué", mail.failure_reason)
        self.assertIn("authentification refusée", mail.failure_reason)
        notification = message.sudo().notification_ids
        self.assertEqual(notification.notification_status, "exception")
        self.assertEqual(notification.failure_reason, mail.failure_reason)
        self.assertFalse(self.smtp.messages)
        self.assertEqual(conversation.with_user(self.dispatcher).send_failure_count, 1, "the whole team sees it")
        logged = conversation.message_ids.filtered(lambda m: "a échoué" in (m.body or ""))
        self.assertEqual(len(logged), 1, "the reason is shown in the conversation itself")

        # The account is fixed: « Renvoyer » sends the very same reply, and the error goes away.
        self.shared.mail_server_id.sudo().smtp_pass = good_password
        result = conversation.with_user(self.member).action_resend_failed()
        self.assertEqual(result["params"]["type"], "success")
        captured = self.smtp.wait_for(1)[-1]
        email = message_from_bytes(captured["data"], policy=email_policy.default)
        self.assertEqual(email["Message-ID"], message.message_id)
        self.assertEqual(notification.notification_status, "sent")
        self.assertEqual(conversation.send_failure_count, 0)

    def test_reply_suggests_the_customer_not_the_shared_address(self):
        self.receive(build_email("Devis", to=self.shared.email)[1])
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        suggested = conversation.with_user(self.member)._message_get_suggested_recipients(reply_discussion=True)
        emails = [recipient["email"] for recipient in suggested]
        self.assertIn("claire.dupont@client-dupont.example", emails)
        self.assertNotIn(self.shared.email, emails)
