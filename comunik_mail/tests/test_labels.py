from email.message import EmailMessage
from email.utils import make_msgid

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import ComunikSyncCase


def raw_email(subject, to, cc=None, bcc=None, in_reply_to=None):
    msg = EmailMessage()
    msg["From"] = "Claire Dupont <claire.dupont@client-dupont.example>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc  # kept by some clients on the sender's copy: must never count
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client-dupont.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content("Bonjour,\n\nMerci.")
    return msg["Message-ID"], msg.as_bytes()


@tagged("post_install", "-at_install")
class TestLabels(ComunikSyncCase):
    """Labels by recipient address (To / Cc), on mail synchronized from the real Dovecot."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        Label = self.env["comunik.mail.label"].with_user(self.admin)
        self.support = Label.create({"name": "Support", "color": 4, "recipient_emails": "Support@VotreEntreprise.test"})
        self.partners = Label.create(
            {"name": "Partenaires", "color": 2, "recipient_emails": "partners@votreentreprise.test\nventes@x.test"}
        )

    def receive(self, *raws):
        for raw in raws:
            self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()
        return self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)], order="id")

    def conversation(self, subject):
        return self.env["comunik.mail.conversation"].search(
            [("account_id", "=", self.shared.id), ("subject", "=", subject)]
        )

    def test_label_rules_on_to_cc_case_and_bcc(self):
        self.receive(
            raw_email("Par To", to='"Service Support" <SUPPORT@votreentreprise.TEST>')[1],
            raw_email("Par Cc", to="quelquun@ailleurs.test", cc="Support <support@votreentreprise.test>")[1],
            raw_email("Deux labels", to="support@votreentreprise.test, partners@votreentreprise.test")[1],
            raw_email("Bcc seulement", to="quelquun@ailleurs.test", bcc="support@votreentreprise.test")[1],
            raw_email("Adresse voisine", to="xsupport@votreentreprise.test")[1],
        )
        self.assertEqual(self.conversation("Par To").label_ids, self.support)
        self.assertEqual(self.conversation("Par Cc").label_ids, self.support)
        self.assertEqual(self.conversation("Deux labels").label_ids, self.support | self.partners)
        self.assertFalse(self.conversation("Bcc seulement").label_ids, "Bcc never applies a label")
        self.assertFalse(self.conversation("Adresse voisine").label_ids)
        self.assertEqual(self.support.conversation_count, 3)
        # Usable as a filter, as the inbox's search view does.
        labelled = (
            self.env["comunik.mail.conversation"]
            .with_user(self.member)
            .search([("label_ids", "in", self.partners.ids)])
        )
        self.assertEqual(labelled, self.conversation("Deux labels"))

    def test_reply_adds_the_labels_of_its_recipients(self):
        first_id, first = raw_email("Contrat", to="quelquun@ailleurs.test")
        conversation = self.receive(first)
        self.assertFalse(conversation.label_ids)
        self.receive(raw_email("Re: Contrat", to="ventes@x.test", in_reply_to=first_id)[1])
        self.assertEqual(self.conversation("Contrat").label_ids, self.partners)

    def test_invalid_address_is_refused_in_french(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["comunik.mail.label"].with_user(self.admin).with_context(lang="fr_FR").create(
                {"name": "Erreur", "recipient_emails": "support@ok.test, pas-une-adresse"}
            )
        self.assertIn("« pas-une-adresse » n'est pas une adresse email valide", str(caught.exception))

    def test_apply_to_existing_conversations(self):
        self.receive(
            raw_email("Ancien", to="factures@votreentreprise.test")[1],
            raw_email("Ancien voisin", to="xfactures@votreentreprise.test")[1],
            raw_email("Ancien Cc", to="a@b.test", cc="FACTURES@votreentreprise.test")[1],
        )
        label = (
            self.env["comunik.mail.label"]
            .with_user(self.admin)
            .create({"name": "Factures", "recipient_emails": "factures@votreentreprise.test"})
        )
        self.assertFalse(self.conversation("Ancien").label_ids, "a new rule does not change mail by itself")
        result = label.action_apply_to_existing()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self.conversation("Ancien").label_ids, label)
        self.assertEqual(self.conversation("Ancien Cc").label_ids, label)
        self.assertFalse(self.conversation("Ancien voisin").label_ids)

    def test_labels_by_hand_and_who_manages_them(self):
        conversation = self.receive(raw_email("Sans label", to="a@b.test")[1])
        conversation.with_user(self.member).write({"label_ids": [(4, self.partners.id)]})
        self.assertEqual(conversation.label_ids, self.partners)
        with self.assertRaises(AccessError):  # only admins configure labels
            self.env["comunik.mail.label"].with_user(self.member).create({"name": "Perso"})
