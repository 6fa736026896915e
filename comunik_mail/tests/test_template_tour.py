from email.utils import parseaddr

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTemplateTour(HttpCase):
    """In French, an administrator creates a folder and a template, publishes it, and replies to a
    conversation with it from Odoo's full composer."""

    def test_create_publish_and_reply_with_a_template(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        new_test_user(
            self.env,
            "cmk_tour_templates",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle Admin",
        )
        company = self.env["res.partner"].create({"name": "Dupont SA", "is_company": True})
        customer = self.env["res.partner"].create(
            {"name": "Claire Dupont", "email": "claire@client.example", "parent_id": company.id}
        )
        account = self.env["comunik.mail.account"].create(
            {
                "email": "support-modeles@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
            }
        )
        conversation = self.env["comunik.mail.conversation"].create(
            {
                "account_id": account.id,
                "subject": "Colis abîmé à la livraison",
                "partner_id": customer.id,
                "is_new": False,
            }
        )
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_template",
            "comunik_mail_template_tour",
            login="cmk_tour_templates",
        )
        self.env.invalidate_all()
        template = self.env["comunik.mail.template"].search([("internal_name", "=", "colis_abime")])
        self.assertEqual(template.state, "published")
        self.assertEqual(template.folder_id.name, "Relances clients")
        self.assertEqual(template.sender_name, "Service Client")
        self.assertEqual(template.subject, "Votre colis, {{fullname}}")
        self.assertIn("Bonjour {{fullname}}", template.body_html)

        reply = conversation.message_ids.filtered(lambda m: "Bonjour Claire Dupont" in (m.body or ""))
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.subject, "Votre colis, Claire Dupont")
        self.assertEqual(parseaddr(reply.email_from), ("Service Client", "support-modeles@example.test"))
        self.assertIn(customer, reply.notified_partner_ids)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)])
        self.assertEqual(mail.email_from, reply.email_from)
        self.assertEqual(mail.mail_server_id, account.mail_server_id, "through the account's SMTP server")
