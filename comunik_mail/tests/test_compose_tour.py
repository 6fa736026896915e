from email.header import decode_header, make_header
from email.utils import parseaddr

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestComposeTour(HttpCase):
    """In French, a member writes a new email from the shared box's inbox with a published template
    and the box's signature, and finds the new conversation in the list."""

    def test_new_email_from_the_inbox(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        member = new_test_user(self.env, "cmk_tour_writer", groups=groups, lang="fr_FR", name="Mélanie Membre")
        department = self.env["hr.department"].create({"name": "Service clients"})
        self.env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-ecrire@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
                "signature_mode": "box",
                "signature": "<p>Service client — Comunik</p>",
            }
        )
        member.comunik_primary_account_id = account
        customer = self.env["res.partner"].create({"name": "Claire Dupont", "email": "claire@client.example"})
        template = self.env["comunik.mail.template"].create(
            {
                "name": "Relance devis",
                "internal_name": "relance_devis_tour",
                "subject": "Votre devis, {{fullname}}",
                "body_html": "<p>Bonjour {{fullname}}, avez-vous pu lire notre devis ?</p>",
            }
        )
        template.action_publish()
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_conversation",
            "comunik_mail_compose_tour",
            login="cmk_tour_writer",
        )
        self.env.invalidate_all()
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", account.id)])
        self.assertEqual(conversation.subject, "Votre devis, Claire Dupont")
        self.assertEqual(conversation.partner_id, customer)
        self.assertEqual(conversation.user_id, member)
        self.assertEqual(conversation.state, "in_progress")
        message = conversation.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertIn("Bonjour Claire Dupont", message.body)
        self.assertIn("Service client — Comunik", message.body)
        self.assertEqual(message.author_id, member.partner_id)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.mail_server_id, account.mail_server_id, "through the box's SMTP server")
        name, address = parseaddr(mail.email_from)
        self.assertEqual((str(make_header(decode_header(name))), address), (member.name, account.email))
        self.assertEqual(parseaddr(mail.email_to)[1], customer.email)
