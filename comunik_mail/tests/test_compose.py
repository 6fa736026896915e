from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SMTPS_PORT, ComunikSyncCase

CUSTOMER = "claire.dupont@client-dupont.example"
COLLEAGUE = "marc.leroy@client-dupont.example"


def customer_email(to, cc="", subject="Commande CMD-21007 non reçue", attachment=None, reply_to=None, in_reply_to=None):
    """An email of the customer to the box, with Cc and optionally an attachment."""
    # Long Odoo Message-IDs must stay one token (Python would fold them into encoded words, no client does).
    msg = EmailMessage(policy=email_policy.default.clone(max_line_length=998))
    msg["From"] = f"Claire Dupont <{CUSTOMER}>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="client-dupont.example")
    if in_reply_to:
        msg["In-Reply-To"] = str(in_reply_to)
        msg["References"] = str(in_reply_to)
    msg.set_content("Bonjour,\n\nJe n'ai pas reçu ma commande.")
    if attachment:
        msg.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return msg["Message-ID"], msg.as_bytes()


def parsed(captured):
    return message_from_bytes(captured["data"], policy=email_policy.default)


def addresses(header):
    return sorted(address.lower() for _name, address in getaddresses([str(header or "")]) if address)


@tagged("post_install", "-at_install")
class TestCompose(ComunikSyncCase):
    """« Nouveau message », « Répondre à tous », « Transférer » and signatures, through the real SMTP sink."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        self.other_box = self.create_shared_account(department_ids=[(5,)], dispatcher_ids=[(5,)])
        self.personal = self.create_account(user=self.owner)
        self.customer = self.env["res.partner"].create({"name": "Claire Dupont", "email": CUSTOMER})
        self.colleague = self.env["res.partner"].create({"name": "Marc Leroy", "email": COLLEAGUE})
        self.boss = self.env["res.partner"].create({"name": "Bernard Chef", "email": "bernard@client-dupont.example"})
        self.send_for_real()

    def compose(self, user, **values):
        defaults = {"mode": "new"}
        defaults.update(values)
        return self.env["comunik.mail.compose"].with_user(user).create(defaults)

    def receive(self, raw):
        self.dovecot.append(self.shared.email, raw)
        self.shared.sudo()._sync()
        return self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)], limit=1)

    # ------------------------------------------------------------------ new email

    def test_new_email_is_one_email_with_to_cc_and_hidden_bcc(self):
        pdf = (
            self.env["ir.attachment"]
            .with_user(self.member)
            .create({"name": "devis.pdf", "raw": b"%PDF-1.4 devis", "res_model": "comunik.mail.compose", "res_id": 0})
        )
        wizard = self.compose(
            self.member,
            account_id=self.shared.id,
            partner_to_ids=[(6, 0, self.customer.ids)],
            partner_cc_ids=[(6, 0, self.colleague.ids)],
            partner_bcc_ids=[(6, 0, self.boss.ids)],
            subject="Votre devis",
            body="<p>Bonjour, voici votre devis.</p>",
            attachment_ids=[(6, 0, pdf.ids)],
        )
        wizard.action_send()
        captured = self.smtp.wait_for(1)
        self.assertEqual(len(captured), 1, "one email for every recipient")
        captured = captured[0]
        email = parsed(captured)
        self.assertEqual(captured["port"], SMTPS_PORT)
        self.assertEqual(captured["auth_login"], self.shared.email, "through the box's own SMTP login")
        self.assertEqual(parseaddr(email["From"]), (self.member.name, self.shared.email))
        self.assertEqual(addresses(email["To"]), [CUSTOMER])
        self.assertEqual(addresses(email["Cc"]), [COLLEAGUE])
        self.assertIsNone(email["Bcc"], "Bcc recipients are never shown")
        self.assertNotIn(b"bernard@", captured["data"])
        self.assertEqual(sorted(captured["rcpt_tos"]), sorted([CUSTOMER, COLLEAGUE, "bernard@client-dupont.example"]))
        self.assertEqual(email["Subject"], "Votre devis")
        self.assertIn("voici votre devis", email.get_body(("html",)).get_content())
        files = [part.get_filename() for part in email.iter_attachments()]
        self.assertEqual(files, ["devis.pdf"])

        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.subject, "Votre devis")
        self.assertEqual(conversation.partner_id, self.customer)
        self.assertEqual(conversation.user_id, self.member)
        self.assertEqual(conversation.state, "in_progress")
        self.assertFalse(conversation.is_new)
        self.assertTrue(conversation.first_response_date)
        message = conversation.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(message.author_id, self.member.partner_id)
        self.assertEqual(email["Message-ID"], message.message_id, "the customer's answer threads back")
        self.assertEqual(message.attachment_ids.res_model, "comunik.mail.conversation")
        self.assertEqual(message.attachment_ids.res_id, conversation.id, "the team can open the file")
        message.attachment_ids.with_user(self.dispatcher).check_access("read")  # the team can open it
        # Outlook or a phone on the same box sees it in Sent, read.
        [(flags, raw)] = self.dovecot.messages(self.shared.email, "Sent").values()
        self.assertEqual(flags, ("\\Seen",))
        copy = message_from_bytes(raw, policy=email_policy.default)
        self.assertEqual(copy["Message-ID"], email["Message-ID"])
        self.assertEqual(addresses(copy["To"]), [CUSTOMER])
        self.assertEqual(addresses(copy["Cc"]), [COLLEAGUE])
        self.assertEqual([part.get_filename() for part in copy.iter_attachments()], ["devis.pdf"])

        # The customer answers: it lands in the same conversation.
        _answer_id, answer = customer_email(
            self.shared.email, subject="Re: Votre devis", in_reply_to=email["Message-ID"]
        )
        self.dovecot.append(self.shared.email, answer)
        self.env.flush_all()  # committed before the next sync, in real life
        self.shared.sudo()._sync()
        self.assertEqual(
            self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)]), conversation
        )
        self.assertEqual(conversation.message_count, 1, "the answer; the copy in Sent is Odoo's own email")
        self.assertEqual(self.env["mail.message"].search_count([("message_id", "=", email["Message-ID"])]), 1)

    def test_box_name_as_sender_and_close_after_sending(self):
        self.shared.with_user(self.admin).write(
            {"sender_name_mode": "box", "sender_display_name": "Service client Comunik"}
        )
        wizard = self.compose(
            self.dispatcher,
            account_id=self.shared.id,
            partner_to_ids=[(6, 0, self.customer.ids)],
            subject="Information",
            body="<p>Bonjour</p>",
            close_after_send=True,
        )
        wizard.action_send()
        email = parsed(self.smtp.wait_for(1)[-1])
        self.assertEqual(parseaddr(email["From"]), ("Service client Comunik", self.shared.email))
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        self.assertEqual(conversation.state, "closed")
        self.assertEqual(conversation.user_id, self.dispatcher)
        self.assertTrue(conversation.close_date)
        # A reply from the chatter follows the box's choice too.
        reply = conversation.with_user(self.dispatcher).message_post(
            body="<p>Complément</p>",
            partner_ids=self.customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)]).send()
        email = parsed(self.smtp.wait_for(2)[-1])
        self.assertEqual(parseaddr(email["From"]), ("Service client Comunik", self.shared.email))

    def test_default_box_is_the_primary_one_if_allowed(self):
        self.member.sudo().comunik_primary_account_id = self.shared
        wizard = Form(self.env["comunik.mail.compose"].with_user(self.member))
        self.assertEqual(wizard.account_id, self.shared)
        self.owner.sudo().comunik_primary_account_id = self.shared  # not one of theirs
        wizard = Form(self.env["comunik.mail.compose"].with_user(self.owner))
        self.assertEqual(wizard.account_id, self.personal)

    @mute_logger("odoo.models")
    def test_nobody_sends_from_a_box_they_do_not_belong_to(self):
        values = {"partner_to_ids": [(6, 0, self.customer.ids)], "subject": "Pirate", "body": "<p>x</p>"}
        for user, box in (
            (self.member, self.other_box),
            (self.member, self.personal),
            (self.owner, self.shared),
            (self.other, self.shared),
        ):
            with self.subTest(user=user.login, box=box.email):
                with self.assertRaises(AccessError):
                    self.compose(user, account_id=box.id, **values)
                own_box = self.env["comunik.mail.account"].with_user(user)._sendable_accounts()[:1]
                wizard = (
                    self.env["comunik.mail.compose"]
                    .with_user(user)
                    .sudo()
                    .create({"account_id": (own_box or self.personal).id, **values})
                    .sudo(False)
                )
                with self.assertRaises(AccessError):
                    wizard.write({"account_id": box.id})
                # Forged in the database behind the ORM's back: sending checks again.
                wizard.sudo().account_id = box
                with self.assertRaises(UserError):  # AccessError is a UserError
                    wizard.action_send()
        self.assertFalse(self.smtp.messages)
        self.assertFalse(
            self.env["comunik.mail.conversation"].search([("account_id", "in", (self.other_box | self.shared).ids)])
        )
        # An Email admin may write from any box.
        self.compose(self.admin, account_id=self.other_box.id, **values).action_send()
        self.assertEqual(len(self.smtp.wait_for(1)), 1)

    @mute_logger("odoo.models")
    def test_others_files_cannot_be_attached(self):
        _id, raw = customer_email(self.personal.email, attachment=("bulletin.pdf", b"%PDF-1.4 paie"))
        self.dovecot.append(self.personal.email, raw)
        self.personal.sudo()._sync()
        of_personal_box = self.env["ir.attachment"].search([("name", "=", "bulletin.pdf")])
        of_other_user = self.env["ir.attachment"].with_user(self.owner).create({"name": "perso.pdf", "raw": b"x"})
        for attachment in (of_personal_box, of_other_user):
            self.assertEqual(len(attachment), 1)
            self.assertFalse(attachment.with_user(self.member).has_access("read"))
            with self.assertRaises(AccessError):
                self.compose(self.member, account_id=self.shared.id, attachment_ids=[(6, 0, attachment.ids)])
            wizard = self.compose(self.member, account_id=self.shared.id, partner_to_ids=[(6, 0, self.customer.ids)])
            with self.assertRaises(AccessError):
                wizard.write({"attachment_ids": [(4, attachment.id)]})
            wizard.sudo().attachment_ids = attachment
            with self.assertRaises(AccessError):
                wizard.action_send()
        self.assertFalse(self.smtp.messages)

    def test_from_a_contact_and_a_lead(self):
        wizard = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(default_mode="new", active_model="res.partner", active_id=self.customer.id)
        )
        self.assertEqual(wizard.partner_to_ids[:], self.customer)
        self.assertEqual(wizard.account_id, self.shared)

        self.member.sudo().group_ids += self.env.ref("sales_team.group_sale_salesman_all_leads")
        lead = self.env["crm.lead"].create(
            {"name": "Projet de site web", "email_from": "Paul Martin <paul.martin@prospect.example>"}
        )
        form = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(default_mode="new", active_model="crm.lead", active_id=lead.id)
        )
        partner = form.partner_to_ids[:]
        self.assertEqual(partner.email, "paul.martin@prospect.example", "the lead's address becomes a contact")
        self.assertEqual(partner.name, "Paul Martin")
        form.body = "<p>Bonjour Paul</p>"
        form.save().action_send()
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        self.assertEqual(conversation.lead_id, lead)
        self.assertEqual(conversation.subject, "Projet de site web")
        self.assertEqual(addresses(parsed(self.smtp.wait_for(1)[-1])["To"]), ["paul.martin@prospect.example"])

    # ------------------------------------------------------------------ reply all, forward

    def test_reply_all_keeps_cc_and_drops_the_box_addresses(self):
        self.member.sudo().email = "melanie@comunik.example"
        customer_id, raw = customer_email(
            f"Support <{self.shared.email}>, Marc Leroy <{COLLEAGUE}>",
            cc=f"{self.member.email}, {self.other_box.email.upper()}, Bernard Chef <bernard@client-dupont.example>",
        )
        conversation = self.receive(raw)
        form = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(default_mode="reply_all", active_model=conversation._name, active_id=conversation.id)
        )
        self.assertEqual(form.account_id, self.shared)
        self.assertEqual(form.partner_to_ids[:].mapped("email_normalized"), [CUSTOMER])
        # The colleagues stay; the box itself and the user writing are dropped (another box is a recipient).
        self.assertEqual(
            sorted(form.partner_cc_ids[:].mapped("email_normalized")),
            sorted([COLLEAGUE, "bernard@client-dupont.example", self.other_box.email.lower()]),
        )
        self.assertEqual(form.subject, "Re: Commande CMD-21007 non reçue")
        form.body = "<p>Bonjour à tous</p>"
        form.save().action_send()
        email = parsed(self.smtp.wait_for(1)[-1])
        self.assertEqual(addresses(email["To"]), [CUSTOMER])
        self.assertNotIn(self.shared.email.lower(), addresses(email["Cc"]))
        self.assertIn(COLLEAGUE, addresses(email["Cc"]))
        self.assertEqual(email["In-Reply-To"], customer_id)
        self.assertIn(customer_id, email["References"])
        self.assertEqual(
            self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)]), conversation
        )
        again = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(default_mode="reply_all", active_model=conversation._name, active_id=conversation.id)
        )
        self.assertEqual(again.subject, "Re: Commande CMD-21007 non reçue", "no double Re")

    def test_reply_all_goes_to_reply_to_and_drops_the_user(self):
        self.member.sudo().email = "melanie@comunik.example"
        _id, raw = customer_email(
            self.shared.email, cc="melanie@comunik.example", reply_to="Commandes <commandes@client-dupont.example>"
        )
        conversation = self.receive(raw)
        form = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(default_mode="reply_all", active_model=conversation._name, active_id=conversation.id)
        )
        self.assertEqual(form.partner_to_ids[:].mapped("email_normalized"), ["commandes@client-dupont.example"])
        self.assertFalse(form.partner_cc_ids[:], "neither the box nor the user")

    def test_forward_carries_the_attachments_and_the_quoted_original(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.member.sudo().lang = "fr_FR"
        self.shared.with_user(self.admin).write(
            {"signature_mode": "box", "signature": "<p>Service client — Comunik</p>"}
        )
        _id, raw = customer_email(self.shared.email, attachment=("facture.pdf", b"%PDF-1.4 facture"))
        conversation = self.receive(raw)
        form = Form(
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .with_context(
                lang="fr_FR", default_mode="forward", active_model=conversation._name, active_id=conversation.id
            )
        )
        self.assertFalse(form.partner_to_ids[:])
        self.assertEqual(form.subject, "Tr: Commande CMD-21007 non reçue")
        body = str(form.body)
        self.assertIn("---------- Message transféré ----------", body)
        self.assertIn("De :", body)
        self.assertIn("Objet : Commande CMD-21007 non reçue", body)
        self.assertIn("je n'ai pas reçu ma commande".lower(), body.lower().replace("&#39;", "'"))
        self.assertLess(body.index("Service client — Comunik"), body.index("Message transféré"), "signature first")
        form.partner_to_ids.add(self.boss)
        form.save().action_send()
        email = parsed(self.smtp.wait_for(1)[-1])
        self.assertEqual(addresses(email["To"]), ["bernard@client-dupont.example"])
        self.assertEqual(email["Subject"], "Tr: Commande CMD-21007 non reçue")
        attachment = next(email.iter_attachments())
        self.assertEqual(attachment.get_filename(), "facture.pdf")
        self.assertEqual(attachment.get_content(), b"%PDF-1.4 facture")
        self.assertIn("Message transféré", email.get_body(("html",)).get_content())
        original = conversation._last_email()
        self.assertEqual(len(original.attachment_ids), 1, "the original keeps its own file")

    @mute_logger("odoo.models")
    def test_reply_to_a_conversation_one_cannot_read(self):
        _id, raw = customer_email(self.shared.email)
        conversation = self.receive(raw)
        Compose = self.env["comunik.mail.compose"].with_user(self.owner)
        for mode in ("reply_all", "forward"):
            with self.assertRaises(AccessError):
                Form(
                    Compose.with_context(default_mode=mode, active_model=conversation._name, active_id=conversation.id)
                )
        with self.assertRaises(AccessError):
            Compose.create({"mode": "forward", "conversation_id": conversation.id, "account_id": self.personal.id})
        # Pointing a reply of one's own box at another box's conversation: refused at sending.
        wizard = Compose.create(
            {"mode": "reply_all", "account_id": self.personal.id, "partner_to_ids": [(6, 0, self.customer.ids)]}
        )
        wizard.sudo().write({"conversation_id": conversation.id, "subject": "x"})
        with self.assertRaises(UserError):  # AccessError is a UserError
            wizard.action_send()
        self.assertFalse(self.smtp.messages)

    # ------------------------------------------------------------------ signatures, templates

    def test_signature_of_the_box_or_of_the_user(self):
        self.member.sudo().signature = "<p>Mélanie, conseillère</p>"
        self.shared.with_user(self.admin).write(
            {"signature_mode": "box", "signature": "<p>Service client — Comunik</p>"}
        )
        form = Form(self.env["comunik.mail.compose"].with_user(self.member).with_context(default_mode="new"))
        self.assertIn("Service client — Comunik", str(form.body))
        self.assertNotIn("Mélanie, conseillère", str(form.body))
        self.shared.with_user(self.admin).signature_mode = "user"
        form = Form(self.env["comunik.mail.compose"].with_user(self.member).with_context(default_mode="new"))
        self.assertIn("Mélanie, conseillère", str(form.body))
        self.assertNotIn("Service client", str(form.body))
        self.shared.with_user(self.admin).signature_mode = "none"
        form = Form(self.env["comunik.mail.compose"].with_user(self.member).with_context(default_mode="new"))
        self.assertNotIn("Mélanie", str(form.body))

    def test_changing_box_changes_the_signature_never_to_another_box_s(self):
        self.member.sudo().signature = "<p>Mélanie, conseillère</p>"
        self.shared.with_user(self.admin).write({"signature_mode": "box", "signature": "<p>Service client</p>"})
        self.other_box.with_user(self.admin).write(
            {
                "signature_mode": "box",
                "signature": "<p>Signature secrète</p>",
                "department_ids": [(6, 0, self.department.ids)],
            }
        )
        form = Form(self.env["comunik.mail.compose"].with_user(self.member).with_context(default_mode="new"))
        form.account_id = self.shared
        form.body = str(form.body).replace("<p><br></p>", "<p>Bonjour</p>", 1)
        self.assertIn("Service client", str(form.body))
        form.account_id = self.other_box
        self.assertIn("Signature secrète", str(form.body))
        self.assertNotIn("Service client", str(form.body))
        self.assertIn("Bonjour", str(form.body), "what was written stays")
        # The personal box of someone else, sent in onchange values: its signature is not rendered.
        self.personal.with_user(self.owner).write({"signature_mode": "box", "signature": "<p>Odile privée</p>"})
        wizard = (
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .new({"mode": "new", "account_id": self.shared.id, "body": str(form.body)})
        )
        wizard.account_id = self.personal
        wizard._onchange_account_id()
        self.assertNotIn("Odile privée", str(wizard.body))

    @mute_logger("odoo.models")
    def test_box_settings_only_for_its_managers(self):
        for user in (self.member, self.dispatcher):
            with self.assertRaises(AccessError):
                self.shared.with_user(user).write({"signature_mode": "box", "signature": "<p>Pirate</p>"})
            with self.assertRaises(AccessError):
                self.shared.with_user(user).sender_name_mode = "box"
        self.personal.with_user(self.owner).write({"sender_name_mode": "box", "sender_display_name": "Odile"})
        self.assertEqual(self.personal.sender_display_name, "Odile")

    def test_template_fills_subject_and_body_for_the_first_recipient(self):
        template = self.env["comunik.mail.template"].create(
            {
                "name": "Relance devis",
                "internal_name": "relance_devis_compose",
                "subject": "Votre devis, {{fullname}}",
                "body_html": "<p>Bonjour {{fullname}}, avez-vous pu lire notre devis ?</p>",
            }
        )
        template.action_publish()
        self.shared.with_user(self.admin).write({"signature_mode": "box", "signature": "<p>Service client</p>"})
        mail_template = template.mail_template_ids.filtered(lambda t: t.model == "comunik.mail.conversation")
        form = Form(self.env["comunik.mail.compose"].with_user(self.member).with_context(default_mode="new"))
        form.partner_to_ids.add(self.customer)
        form.template_id = mail_template
        self.assertEqual(form.subject, "Votre devis, Claire Dupont")
        self.assertIn("Bonjour Claire Dupont, avez-vous pu lire notre devis", str(form.body))
        self.assertIn("Service client", str(form.body), "the signature stays")
        form.save().action_send()
        email = parsed(self.smtp.wait_for(1)[-1])
        self.assertEqual(email["Subject"], "Votre devis, Claire Dupont")
        self.assertEqual(parseaddr(email["From"])[1], self.shared.email)

    def test_template_without_recipient_asks_for_one(self):
        template = self.env["comunik.mail.template"].create(
            {"name": "Accueil", "internal_name": "accueil_compose", "subject": "Bonjour", "body_html": "<p>Bonjour</p>"}
        )
        template.action_publish()
        mail_template = template.mail_template_ids.filtered(lambda t: t.model == "comunik.mail.conversation")
        wizard = self.env["comunik.mail.compose"].with_user(self.member).new({"mode": "new"})
        wizard.template_id = mail_template
        result = wizard._onchange_template_id()
        self.assertIn("warning", result)
        self.assertFalse(wizard.template_id)
        # A draft (its Odoo copy archived) is never rendered, even when its id is sent.
        template.action_save_draft()
        wizard = (
            self.env["comunik.mail.compose"]
            .with_user(self.member)
            .new({"mode": "new", "partner_to_ids": [(6, 0, self.customer.ids)], "subject": "Mon objet"})
        )
        wizard.template_id = mail_template
        wizard._onchange_template_id()
        self.assertEqual(wizard.subject, "Mon objet")

    def test_new_user_without_box_cannot_send(self):
        lonely = new_test_user(self.env, "cmk_lonely", groups="base.group_user,comunik_mail.group_comunik_mail_user")
        form = Form(self.env["comunik.mail.compose"].with_user(lonely).with_context(default_mode="new"))
        self.assertFalse(form.account_id)
        with self.assertRaises(AccessError):
            self.compose(lonely, account_id=self.shared.id, partner_to_ids=[(6, 0, self.customer.ids)])
