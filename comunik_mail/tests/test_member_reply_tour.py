from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestMemberReplyTour(HttpCase):
    """In French, the member an email was assigned to starts it, replies to the customer and closes it."""

    def test_member_replies_and_closes(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        member = new_test_user(self.env, "cmk_tour_replier", groups=groups, lang="fr_FR", name="Mélanie Membre")
        department = self.env["hr.department"].create({"name": "Service clients"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-reply@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        customer = self.env["res.partner"].create({"name": "Claire Dupont", "email": "claire@client.example"})
        conversation = self.env["comunik.mail.conversation"].create(
            {"account_id": account.id, "subject": "Commande CMD-30412 non reçue", "partner_id": customer.id}
        )
        conversation.message_post(
            body="Bonjour, je n'ai pas reçu ma commande.",
            message_type="email",
            subtype_xmlid="mail.mt_comment",
            author_id=customer.id,
            email_from="Claire Dupont <claire@client.example>",
            incoming_email_to=account.email,
        )
        conversation.action_assign(member)
        conversation.is_new = True  # the customer wrote again: opening it must remove the badge (a write)
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_member_reply_tour",
            login="cmk_tour_replier",
        )
        self.env.invalidate_all()
        self.assertEqual(conversation.state, "closed")
        self.assertFalse(conversation.is_new, "opened: the « Nouveau » badge is gone")
        reply = conversation.message_ids.filtered(lambda m: "votre commande part" in (m.body or ""))
        self.assertEqual(reply.author_id, member.partner_id)
        self.assertIn(account.email, reply.email_from, "the reply leaves from the shared address")
        self.assertIn(customer, reply.notified_partner_ids)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)])
        self.assertEqual(mail.mail_server_id, account.mail_server_id, "through the account's SMTP server")
        self.assertTrue(conversation.first_response_date)
