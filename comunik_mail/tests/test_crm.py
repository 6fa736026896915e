from odoo.tests import tagged

from .common import ComunikSyncCase
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestCrmLeads(ComunikSyncCase):
    """« Création d'un enregistrement de piste »: one lead per new conversation, linked both ways."""

    def sync(self, account, *raws):
        for raw in raws:
            self.dovecot.append(account.email, raw)
        account.sudo()._sync()
        return self.env["comunik.mail.conversation"].search([("account_id", "=", account.id)], order="id")

    def test_one_lead_per_conversation_not_per_reply(self):
        account = self.create_account(category="shared", create_lead=True)
        first_id, first = build_email("Demande de devis — 40 chaises de bureau", body="Bonjour, un devis svp.")
        _reply_id, reply = build_email("Re: Demande de devis", in_reply_to=first_id, references=[first_id])
        _other_id, other = build_email(
            "Prise de rendez-vous", sender="Hélène Fournier <helene@hotel-des-vignes.example>"
        )
        conversations = self.sync(account, first, reply, other)
        self.assertEqual(len(conversations), 2)
        leads = conversations.lead_id
        self.assertEqual(len(leads), 2)
        quote = conversations.filtered(lambda c: c.subject.startswith("Demande de devis"))
        self.assertEqual(quote.lead_id.name, "Demande de devis — 40 chaises de bureau")
        self.assertEqual(quote.lead_id.partner_id, quote.partner_id)
        self.assertEqual(quote.lead_id.email_from, "claire.dupont@client-dupont.example")
        self.assertIn("un devis svp", quote.lead_id.description)
        self.assertEqual(quote.lead_id.comunik_conversation_ids, quote)
        self.assertEqual(quote.lead_id.comunik_conversation_count, 1)
        action = quote.lead_id.action_open_comunik_conversations()
        self.assertEqual(self.env["comunik.mail.conversation"].search(action["domain"]), quote)

        _later_id, later = build_email("Re: Re: Demande de devis", in_reply_to=first_id, references=[first_id])
        self.sync(account, later)
        self.assertEqual(self.env["crm.lead"].search_count([("id", "in", leads.ids)]), 2)
        self.assertEqual(
            self.env["crm.lead"].search_count([("comunik_conversation_ids.account_id", "=", account.id)]), 2
        )

    def test_no_lead_without_the_option(self):
        account = self.create_account(category="shared")
        conversations = self.sync(account, build_email("Simple question")[1])
        self.assertFalse(conversations.lead_id)
