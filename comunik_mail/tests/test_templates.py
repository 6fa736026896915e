import itertools
from email import message_from_bytes
from email import policy as email_policy
from email.utils import parseaddr

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import ComunikSyncCase
from .test_sync import build_email

ALL_PLACEHOLDERS = "{{fullname}} | {{email}} | {{company}} | {{phone}} | {{reference}} | {{user}}"
_sequence = itertools.count(1)


@tagged("post_install", "-at_install")
class TestTemplates(TransactionCase):
    """Email and SMS templates of the Email app, rendered and offered by Odoo's own composers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.admin = new_test_user(
            cls.env,
            "cmk_tpl_admin",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            name="Adèle Admin",
            lang="fr_FR",
        )
        cls.user = new_test_user(
            cls.env,
            "cmk_tpl_user",
            groups="base.group_user,comunik_mail.group_comunik_mail_user",
            name="Ulysse Utilisateur",
            email="ulysse@comunik.example",
        )
        cls.salesman = new_test_user(
            cls.env,
            "cmk_tpl_salesman",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads",
            name="Serge Commercial",
        )
        cls.company = cls.env["res.partner"].create(
            {"name": "Dupont SA", "is_company": True, "email": "contact@dupont.example", "phone": "+33 1 23 45 67 89"}
        )
        cls.person = cls.env["res.partner"].create(
            {
                "name": "Claire Dupont",
                "parent_id": cls.company.id,
                "email": "claire@dupont.example",
                "phone": "+33 6 11 22 33 44",
            }
        )
        cls.account = cls.env["comunik.mail.account"].create(
            {"email": "support-templates@example.test", "category": "shared", "imap_host": "127.0.0.1"}
        )
        cls.conversation = cls.env["comunik.mail.conversation"].create(
            {"account_id": cls.account.id, "subject": "Commande non reçue", "partner_id": cls.person.id}
        )
        cls.folder = cls.env["comunik.mail.template.folder"].create({"name": "Support"})
        cls.Template = cls.env["comunik.mail.template"].with_user(cls.admin)

    def create_template(self, **values):
        values = {
            "name": "Relance commande",
            "internal_name": f"relance_{next(_sequence)}",
            "folder_id": self.folder.id,
            "subject": "Votre commande, {{fullname}}",
            "body_html": "<p>Bonjour <b>{{fullname}}</b>,</p><p>{{ALL}}</p>".replace("{{ALL}}", ALL_PLACEHOLDERS),
            **values,
        }
        return self.Template.create(values)

    def copy_for(self, template, model):
        copies = template.with_context(active_test=False).mail_template_ids
        return copies.filtered(lambda copy: copy.model == model)

    def render(self, template, record, user=None):
        """What Odoo's composer gets from the template, for ``record``, as ``user`` (who sends)."""
        mail_template = self.copy_for(template, record._name).with_user(user or self.user)
        self.assertEqual(len(mail_template), 1, f"one email template for {record._name}")
        return mail_template._generate_template(record.ids, {"subject", "body_html", "email_from"})[record.id]

    @staticmethod
    def offered_templates(user, model):
        """The templates Odoo's composer menu lists (mail_composer_template_selector: by model, shared or own)."""
        MailTemplate = user.env["mail.template"]
        return MailTemplate.search([("model", "=", model), ("user_id", "=", user.id)]) | MailTemplate.search(
            [("model", "=", model), ("user_id", "=", False)]
        )

    # ------------------------------------------------------------------ rendering

    def test_placeholders_render_for_a_person_and_a_company(self):
        template = self.create_template()
        template.action_publish()
        person = self.render(template, self.person)
        self.assertEqual(person["subject"], "Votre commande, Claire Dupont")
        self.assertIn("<b>Claire Dupont</b>", person["body_html"])
        self.assertIn(
            "Claire Dupont | claire@dupont.example | Dupont SA | +33 6 11 22 33 44 | Dupont SA, Claire Dupont"
            " | Ulysse Utilisateur",
            person["body_html"],
        )
        company = self.render(template, self.company)
        self.assertEqual(company["subject"], "Votre commande, Dupont SA")
        self.assertIn(
            "Dupont SA | contact@dupont.example | Dupont SA | +33 1 23 45 67 89 | Dupont SA | Ulysse Utilisateur",
            company["body_html"],
        )
        loner = self.env["res.partner"].create({"name": "Paul Seul", "email": "paul@seul.example"})
        self.assertIn("Paul Seul | paul@seul.example |  | ", self.render(template, loner)["body_html"])

    def test_recipient_of_any_document_with_a_chatter(self):
        template = self.create_template(body_html=f"<p>{ALL_PLACEHOLDERS}</p>")
        template.action_publish()
        conversation = self.render(template, self.conversation, self.admin)
        self.assertIn("Claire Dupont | claire@dupont.example | Dupont SA |", conversation["body_html"])
        self.assertIn("| Commande non reçue |", conversation["body_html"], "{{reference}} is the document")
        lead = self.env["crm.lead"].create({"name": "Projet vitrine", "partner_id": self.company.id})
        self.assertIn(
            "Dupont SA | contact@dupont.example | Dupont SA |", self.render(template, lead, self.salesman)["body_html"]
        )
        prospect = self.env["crm.lead"].create(
            {
                "name": "Demande de devis",
                "contact_name": "Jean Martin",
                "email_from": "Jean Martin <jean@martin.example>",
                "partner_name": "Martin SARL",
                "phone": "+33 4 00 00 00 00",
            }
        )
        self.assertIn(
            "Jean Martin | jean@martin.example | Martin SARL | +33 4 00 00 00 00 | Demande de devis |",
            self.render(template, prospect, self.salesman)["body_html"],
        )

    def test_template_text_is_never_executed(self):
        template = self.create_template(
            subject="Objet",
            body_html='<p>Calcul <t t-out="7 * 6"/><span t-esc="7 * 6">x</span> {{fullname}}</p>',
        )
        template.action_publish()
        mail_template = self.copy_for(template, "res.partner")
        self.assertFalse(mail_template._has_unsafe_expression(), "only whitelisted field reads are rendered")
        body = self.render(template, self.person)["body_html"]
        self.assertNotIn("42", body)
        self.assertIn("Claire Dupont", body)
        for expression in ("{{ 7 * 6 }}", "{{ object.env.user.password }}", "{{object.name}}"):
            draft = self.create_template(subject=f"Objet {expression}")
            with self.assertRaises(UserError, msg=expression):
                draft.action_publish()
            self.assertEqual(draft.state, "draft")
            self.assertFalse(draft.with_context(active_test=False).mail_template_ids)

    def test_unknown_placeholder_refused_in_french(self):
        template = self.create_template(body_html="<p>Bonjour {{prenom}} de {{company}}</p>")
        with self.assertRaises(UserError) as refused:
            template.with_context(lang=self.admin.lang).action_publish()
        message = str(refused.exception)
        self.assertIn("{{prenom}}", message)
        self.assertIn("Champ dynamique inconnu", message)
        self.assertEqual(template.state, "draft")
        self.assertFalse(template.with_context(active_test=False).mail_template_ids)
        partly_bold = self.create_template(body_html="<p>Bonjour {{full<b>name</b>}}</p>")
        with self.assertRaisesRegex(UserError, "{{fullname}}"):
            partly_bold.action_publish()

    def test_sender_name_is_the_display_name_of_from(self):
        template = self.create_template(sender_name="Service Client Dupont")
        template.action_publish()
        self.assertEqual(
            self.render(template, self.conversation, self.admin)["email_from"],
            '"Service Client Dupont" <support-templates@example.test>',
            "a conversation keeps its account's address",
        )
        self.assertEqual(
            self.render(template, self.person)["email_from"],
            '"Service Client Dupont" <ulysse@comunik.example>',
        )
        self.assertEqual(self.create_template().sender_name, "COMUNIK", "default sender name")

    # ------------------------------------------------------------------ composers

    def test_only_published_templates_are_offered_in_the_email_composer(self):
        published = self.create_template(name="Modèle publié")
        draft = self.create_template(name="Modèle brouillon")
        published.action_publish()
        cases = ((self.user, self.conversation._name), (self.salesman, "crm.lead"), (self.user, "res.partner"))
        for user, model in cases:
            offered = self.offered_templates(user, model)
            self.assertIn(self.copy_for(published, model), offered)
            self.assertFalse(offered & draft.with_context(active_test=False).mail_template_ids, "drafts never offered")
        published.action_save_draft()
        self.assertFalse(self.offered_templates(self.user, "res.partner") & published.mail_template_ids)
        published.action_publish()
        self.assertIn(self.copy_for(published, "res.partner"), self.offered_templates(self.user, "res.partner"))
        published.active = False
        self.assertNotIn(self.copy_for(published, "res.partner"), self.offered_templates(self.user, "res.partner"))

    def test_email_composer_fills_in_the_template(self):
        template = self.create_template(sender_name="Service Client")
        template.action_publish()
        lead = self.env["crm.lead"].create({"name": "Projet vitrine", "partner_id": self.person.id})
        composer_form = Form(
            self.env["mail.compose.message"]
            .with_user(self.salesman)
            .with_context(default_model="crm.lead", default_res_ids=lead.ids, default_composition_mode="comment")
        )
        composer_form.template_id = self.copy_for(template, "crm.lead")
        composer = composer_form.save()
        self.assertEqual(composer.subject, "Votre commande, Claire Dupont")
        self.assertIn("Claire Dupont | claire@dupont.example | Dupont SA", composer.body)
        self.assertIn(self.person, composer.partner_ids)
        composer.action_send_mail()
        message = lead.message_ids[0]
        self.assertEqual(message.subject, "Votre commande, Claire Dupont")
        self.assertIn("Bonjour <b>Claire Dupont</b>", message.body)
        self.assertEqual(message.email_from, f'"Service Client" <{self.salesman.email}>')

    def test_model_installed_after_publishing_gets_the_templates(self):
        template = self.create_template()
        template.action_publish()
        self.copy_for(template, "crm.lead").unlink()
        self.assertFalse(self.offered_templates(self.salesman, "crm.lead") & template.mail_template_ids)
        lead = self.env["crm.lead"].create({"name": "Projet vitrine", "partner_id": self.person.id})
        Form(
            self.env["mail.compose.message"]
            .with_user(self.salesman)
            .with_context(default_model="crm.lead", default_res_ids=lead.ids, default_composition_mode="comment")
        )
        self.assertEqual(len(self.copy_for(template, "crm.lead")), 1)
        self.assertIn(self.copy_for(template, "crm.lead"), self.offered_templates(self.salesman, "crm.lead"))

    def test_sms_template_offered_in_the_sms_composer(self):
        sms = self.create_template(
            name="SMS rendez-vous", template_type="sms", body_text="Bonjour {{fullname}} ({{company}}), RDV confirmé."
        )
        draft_sms = self.create_template(name="SMS brouillon", template_type="sms", body_text="Brouillon")
        email = self.create_template(name="Email publié")
        (sms | email).action_publish()
        self.assertFalse(sms.with_context(active_test=False).mail_template_ids, "no email template for an SMS")
        self.assertFalse(email.sms_template_ids, "no SMS template for an email")
        self.assertFalse(draft_sms.sms_template_ids)

        SmsComposer = self.env["sms.composer"].with_user(self.user)
        composer_form = Form(
            SmsComposer.with_context(default_res_model="res.partner", default_res_ids=(self.person | self.company).ids)
        )
        self.assertEqual(composer_form.composition_mode, "mass")
        # What the « Use Template » field proposes: its domain, searched as the user.
        domain = [("model", "=", "res.partner")]
        proposed = self.env["sms.template"].with_user(self.user).search(domain)
        sms_copy = sms.sms_template_ids.filtered(lambda t: t.model == "res.partner")
        self.assertIn(sms_copy, proposed)
        self.assertFalse(proposed & draft_sms.sms_template_ids)
        composer_form.template_id = sms_copy
        composer = composer_form.save()
        composer.action_send_sms()
        texts = self.env["sms.sms"].sudo().search([("partner_id", "in", (self.person | self.company).ids)])
        self.assertEqual(
            sorted(texts.mapped("body")),
            ["Bonjour Claire Dupont (Dupont SA), RDV confirmé.", "Bonjour Dupont SA (Dupont SA), RDV confirmé."],
        )
        sms.action_save_draft()
        self.assertFalse(self.env["sms.template"].search([("comunik_template_id", "=", sms.id)]))

    # ------------------------------------------------------------------ management

    def test_published_template_changes_reach_every_language(self):
        template = self.create_template()
        template.action_publish()
        template.write({"subject": "Nouvel objet pour {{fullname}}", "body_html": "<p>Nouveau {{email}}</p>"})
        mail_template = self.copy_for(template, "res.partner")
        for lang in ("en_US", "fr_FR"):
            localized = mail_template.with_context(lang=lang)
            self.assertEqual(localized.subject, "Nouvel objet pour {{ object.comunik_recipient_name }}", lang)
            self.assertIn('<t t-out="object.comunik_recipient_email"', localized.body_html, lang)
        with self.assertRaises(UserError):
            template.subject = "{{inconnu}}"

    def test_users_read_published_templates_admins_manage_them(self):
        published = self.create_template(name="Publié")
        draft = self.create_template(name="Brouillon")
        published.action_publish()
        visible = self.env["comunik.mail.template"].with_user(self.user).search([])
        self.assertIn(published, visible)
        self.assertNotIn(draft, visible)
        with self.assertRaises(AccessError):
            published.with_user(self.user).write({"name": "Modifié"})
        with self.assertRaises(AccessError):
            self.env["comunik.mail.template"].with_user(self.user).create({"name": "X", "internal_name": "x"})
        with self.assertRaises(AccessError):
            self.env["comunik.mail.template.folder"].with_user(self.user).create({"name": "X"})
        self.assertEqual(self.folder.with_user(self.user).name, "Support")
        sub = (
            self.env["comunik.mail.template.folder"]
            .with_user(self.admin)
            .create({"name": "Relances", "parent_id": self.folder.id})
        )
        self.assertEqual(sub.complete_name, "Support / Relances")
        with self.assertRaises(UserError):
            self.folder.with_user(self.admin).parent_id = sub


@tagged("post_install", "-at_install")
class TestTemplateSending(ComunikSyncCase):
    """A reply written from a template leaves through the account's SMTP (the real sink) under the
    template's sender name."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        self.send_for_real()

    def test_sender_name_in_the_sent_email(self):
        self.dovecot.append(self.shared.email, build_email("Commande CMD-4410 en retard", to=self.shared.email)[1])
        self.shared.sudo()._sync()
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.shared.id)])
        conversation.with_user(self.dispatcher).action_assign(self.member)
        template = (
            self.env["comunik.mail.template"]
            .with_user(self.admin)
            .create(
                {
                    "name": "Retard de livraison",
                    "internal_name": "retard_livraison_smtp",
                    "sender_name": "Service Client Dupont",
                    "subject": "Votre commande, {{fullname}}",
                    "body_html": "<p>Bonjour {{fullname}}, votre colis part aujourd'hui.</p>",
                }
            )
        )
        template.action_publish()
        mail_template = template.mail_template_ids.filtered(lambda t: t.model == conversation._name)

        composer_form = Form(
            self.env["mail.compose.message"]
            .with_user(self.member)
            .with_context(
                default_model=conversation._name,
                default_res_ids=conversation.ids,
                default_composition_mode="comment",
                default_subtype_xmlid="mail.mt_comment",
            )
        )
        composer_form.template_id = mail_template
        _mails, messages = composer_form.save()._action_send_mail()
        self.env["mail.mail"].sudo().search([("mail_message_id", "in", messages.ids)]).send()

        captured = self.smtp.wait_for(1)[-1]
        email = message_from_bytes(captured["data"], policy=email_policy.default)
        self.assertEqual(parseaddr(str(email["From"])), ("Service Client Dupont", self.shared.email))
        self.assertEqual(captured["auth_login"], self.shared.email, "sent through the account's own SMTP login")
        self.assertIn("claire.dupont@client-dupont.example", captured["rcpt_tos"])
        self.assertEqual(email["Subject"], "Votre commande, Claire Dupont")
        self.assertIn("Bonjour Claire Dupont, votre colis part aujourd'hui.", email.get_body(("html",)).get_content())
