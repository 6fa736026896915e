import re

from lxml import etree
from lxml import html as lxml_html

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import is_html_empty

#: Placeholders a template author may type, and the record field that renders each of them
#: (fields added to every model with a chatter, see mail.thread; ``display_name`` is Odoo's own).
#: They are also the only expressions allowed in the underlying Odoo templates, so Odoo renders
#: them with its « safe » path (field reads, no code evaluation).
PLACEHOLDER_FIELDS = {
    "fullname": "comunik_recipient_name",
    "email": "comunik_recipient_email",
    "company": "comunik_recipient_company",
    "phone": "comunik_recipient_phone",
    "reference": "display_name",
    "user": "comunik_user_name",
}
#: What Odoo's inline templates interpret (``{{ ... }}``), read more broadly: any such text is checked.
PLACEHOLDER_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
SENDER_EMAIL_EXPRESSION = "object.comunik_sender_email"
#: Changing one of these re-synchronises the Odoo templates.
SYNCED_FIELDS = {
    "name",
    "internal_name",
    "template_type",
    "state",
    "sender_name",
    "subject",
    "body_html",
    "body_text",
    "active",
}


#: Odoo templates a template owns copies of, per type, and the method giving their values.
COPY_MODELS = {"email": ("mail.template", "_mail_template_values"), "sms": ("sms.template", "_sms_template_values")}


def placeholder_expressions():
    """Odoo expressions produced from the placeholders (whitelisted in ``mail_allowed_qweb_expressions``)."""
    return tuple(f"object.{fname}" for fname in PLACEHOLDER_FIELDS.values()) + (SENDER_EMAIL_EXPRESSION,)


class ComunikMailTemplate(models.Model):
    """Email or SMS template of the Email app (guide: « Configuration et gestion des modèles d'emails »).

    Design: this model holds what the guide describes (folder, internal name, title, type, sender
    name, draft/published) and *owns* real Odoo templates: one ``mail.template`` (or ``sms.template``)
    per model with a chatter, kept in sync on every change. Odoo's composers (email: template menu of
    the full composer; SMS: « Use Template ») list templates by model, so one copy per model is what
    makes a template usable on conversations, leads, contacts and any other document with a chatter,
    with Odoo's own renderer and recipients. Extending ``mail.template`` directly would tie a template
    to a single model and mix drafts into every composer.

    Drafts are never offered: their email copies are archived (the composer only lists active
    templates) and their SMS copies deleted (``sms.template`` has no archive); only publishing
    activates or creates them. The ``{{fullname}}``-style placeholders the author types are
    translated at publish time into the whitelisted field expressions of ``PLACEHOLDER_FIELDS``;
    any other ``{{...}}`` is refused, naming it. The sender name becomes the display name of the
    templates' From (``"<sender name>" <{{ object.comunik_sender_email }}>``): the address stays the
    conversation's account (else the user's).
    """

    _name = "comunik.mail.template"
    _description = "Email and SMS Template"
    _order = "folder_id, name, id"

    name = fields.Char("Title", required=True, help="Name shown in the list of templates and in the composers.")
    internal_name = fields.Char(
        required=True, copy=False, help="Technical name used to identify the template internally."
    )
    folder_id = fields.Many2one("comunik.mail.template.folder", index=True, ondelete="set null")
    template_type = fields.Selection([("email", "Email"), ("sms", "SMS")], "Type", required=True, default="email")
    state = fields.Selection(
        [("draft", "Draft"), ("published", "Published")],
        "Status",
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        help="Only published templates are offered in the email and SMS composers.",
    )
    sender_name = fields.Char(default="COMUNIK", help="Name shown to the recipient as the sender of the email.")
    subject = fields.Char()
    body_html = fields.Html("Content")
    body_text = fields.Text("SMS Content")
    active = fields.Boolean(default=True)
    mail_template_ids = fields.One2many(
        "mail.template", "comunik_template_id", "Odoo Email Templates", context={"active_test": False}
    )
    sms_template_ids = fields.One2many("sms.template", "comunik_template_id", "Odoo SMS Templates")

    _internal_name_uniq = models.Constraint("UNIQUE(internal_name)", "Another template already has this internal name.")

    # ------------------------------------------------------------------ CRUD

    def _has_field_access(self, field, operation):
        """The Odoo copies are linked by Publish alone (relinking them by hand would offer or hide
        templates behind the app's back)."""
        if operation == "write" and field.name in ("mail_template_ids", "sms_template_ids") and not self.env.su:
            return False
        return super()._has_field_access(field, operation)

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates.filtered(lambda t: t.state == "published")._sync_odoo_templates()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if SYNCED_FIELDS & set(vals):
            self._sync_odoo_templates()
        return result

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for template, vals in zip(self, vals_list, strict=True):
            vals.setdefault("internal_name", self.env._("%s (copy)", template.internal_name))
        return vals_list

    # ------------------------------------------------------------------ actions

    def action_publish(self):
        """« Publier »: checks the placeholders, then offers the template in the composers."""
        self.write({"state": "published"})
        return True

    def action_save_draft(self):
        """« Enregistrer en brouillon »: kept for later, withdrawn from the composers."""
        self.write({"state": "draft"})
        return True

    def action_add_folder(self):
        """« + Ajouter dossier » of the template list (whatever the selected templates)."""
        self.env["comunik.mail.template.folder"].check_access("create")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add Folder"),
            "res_model": "comunik.mail.template.folder",
            "view_mode": "form",
            "views": [(self.env.ref("comunik_mail.view_comunik_mail_template_folder_form_add").id, "form")],
            "target": "new",
        }

    @api.model
    def get_placeholders(self):
        """Dynamic fields of the side panel: what to insert and its label, in the user's language."""
        self.check_access("read")
        labels = {
            "fullname": self.env._("Customer name"),
            "email": self.env._("Email address"),
            "company": self.env._("Company name"),
            "phone": self.env._("Phone number"),
            "reference": self.env._("Document reference"),
            "user": self.env._("Your name"),
        }
        return [{"key": key, "token": f"{{{{{key}}}}}", "label": labels[key]} for key in PLACEHOLDER_FIELDS]

    # ------------------------------------------------------------------ placeholders

    def _check_placeholders(self, text):
        """Refuse any ``{{...}}`` that is not a known placeholder, naming it (in the user's language)."""
        unknown = []
        for match in PLACEHOLDER_RE.finditer(text or ""):
            if match.group(1).strip() not in PLACEHOLDER_FIELDS and match.group(0) not in unknown:
                unknown.append(match.group(0))
        if unknown:
            raise UserError(
                self.env._(
                    'Unknown dynamic field %(fields)s in template "%(template)s". '
                    "Available dynamic fields: %(allowed)s.",
                    fields=", ".join(unknown),
                    template=self.name,
                    allowed=", ".join(f"{{{{{key}}}}}" for key in PLACEHOLDER_FIELDS),
                )
            )

    def _inline_template(self, text):
        """Plain text (subject, SMS) to an Odoo inline template: ``{{fullname}}`` -> ``{{ object.<field> }}``."""
        self._check_placeholders(text)
        return PLACEHOLDER_RE.sub(
            lambda match: f"{{{{ object.{PLACEHOLDER_FIELDS[match.group(1).strip()]} }}}}", text or ""
        )

    def _qweb_body(self, body):
        """Rich text to an Odoo QWeb body: placeholders in text become ``<t t-out="object.<field>"/>``.

        The content was sanitized on save (no QWeb attribute survives), so these generated
        elements are the only instructions of the rendered body.
        """
        root = lxml_html.fragment_fromstring(body, create_parent="div")
        self._check_placeholders(root.text_content())
        for element in list(root.iter()):
            if not isinstance(element.tag, str):
                continue
            if element.text and "{{" in element.text:
                literal, nodes = self._split_placeholders(element.text)
                element.text = literal
                for index, node in enumerate(nodes):
                    element.insert(index, node)
            if element is not root and element.tail and "{{" in element.tail:
                literal, nodes = self._split_placeholders(element.tail)
                element.tail = literal
                anchor = element
                for node in nodes:
                    anchor.addnext(node)
                    anchor = node
        leftover = PLACEHOLDER_RE.search(root.text_content())
        if leftover:
            raise UserError(
                self.env._(
                    'The dynamic field %(field)s of template "%(template)s" is only partly formatted (bold, link...): '
                    "format all of it or none of it.",
                    field=leftover.group(0),
                    template=self.name,
                )
            )
        # Serialized through the wrapping <div> so that the leading text is escaped too.
        return etree.tostring(root, encoding="unicode", method="html")[len("<div>") : -len("</div>")]

    @staticmethod
    def _split_placeholders(text):
        """``"a {{email}} b"`` -> ``("a ", [<t t-out="object.comunik_recipient_email"/> with tail " b"])``."""
        parts = PLACEHOLDER_RE.split(text)
        nodes = []
        for index in range(1, len(parts), 2):
            node = etree.Element("t")
            node.set("t-out", f"object.{PLACEHOLDER_FIELDS[parts[index].strip()]}")
            node.tail = parts[index + 1] or None
            nodes.append(node)
        return parts[0] or None, nodes

    def _email_from(self):
        """From of the sent emails: the sender name as display name; the address is the record's sender
        address (a conversation's account, else the user's), rendered by Odoo."""
        name = re.sub(r'[{}<>"\\\r\n]', "", self.sender_name or "").strip()
        address = f"{{{{ {SENDER_EMAIL_EXPRESSION} }}}}"
        return f'"{name}" <{address}>' if name else address

    # ------------------------------------------------------------------ Odoo templates

    def _mail_template_values(self):
        self.ensure_one()
        if not (self.subject or "").strip():
            raise UserError(self.env._('The email template "%s" needs a subject to be published.', self.name))
        if is_html_empty(self.body_html):
            raise UserError(self.env._('The email template "%s" needs a content to be published.', self.name))
        return {
            "name": self.name,
            "description": self.internal_name,
            "subject": self._inline_template(self.subject),
            "body_html": self._qweb_body(self.body_html),
            "email_from": self._email_from(),
            "use_default_to": True,
            "user_id": False,
        }

    def _sms_template_values(self):
        self.ensure_one()
        if not (self.body_text or "").strip():
            raise UserError(self.env._('The SMS template "%s" needs a content to be published.', self.name))
        return {"name": self.name, "body": self._inline_template(self.body_text)}

    @api.model
    def _target_models(self, template_type):
        """Models whose composers offer the templates: every document model with a chatter
        (for SMS, those Odoo can text: with a phone or a contact)."""
        domain = [("is_mail_thread", "=", True), ("transient", "=", False)]
        if template_type == "sms":
            domain.append(("is_mail_thread_sms", "=", True))
        ir_models = self.env["ir.model"].sudo().search(domain)
        return ir_models.filtered(lambda m: m.model in self.env and not self.env[m.model]._abstract)

    def _is_offered(self, template_type):
        self.ensure_one()
        return self.active and self.state == "published" and self.template_type == template_type

    def _sync_odoo_templates(self, ir_models=None):
        """Create, update, archive or delete the Odoo templates owned by these templates.

        :param ir_models: restrict the creation of missing copies to these models (all by default).
        """
        if not self:
            return
        for template_type in COPY_MODELS:
            self._sync_copies(template_type, ir_models)

    def _sync_copies(self, template_type, ir_models=None):
        """Email copies are archived while not offered (the composer lists active ones only); SMS
        copies are deleted (``sms.template`` cannot be archived)."""
        model_name, values_method = COPY_MODELS[template_type]
        Copy = self.env[model_name].sudo().with_context(active_test=False)
        archivable = "active" in Copy._fields
        copies = Copy.search([("comunik_template_id", "in", self.ids)])
        targets = ir_models if ir_models is not None else self._target_models(template_type)
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        to_create = []
        for template in self:
            own = copies.filtered(lambda t, template=template: t.comunik_template_id == template)
            if not template._is_offered(template_type):
                if archivable:
                    own.filtered("active").write({"active": False})
                else:
                    own.unlink()
                continue
            values = getattr(template, values_method)()
            if archivable:
                own.filtered(lambda t: not t.active).write({"active": True})
            # The copies are not translated: every installed language gets the same text.
            for lang in langs:
                own.with_context(lang=lang).write(values)
            covered = set(own.model_id.ids)
            to_create += [
                dict(values, model_id=ir_model.id, comunik_template_id=template.id)
                for ir_model in targets
                if ir_model.id not in covered
            ]
        if to_create:
            Copy.create(to_create)

    @api.model
    def _ensure_model_templates(self, model_name, template_type):
        """Composer opening on ``model_name``: give it the published templates it lacks
        (a model installed after they were published)."""
        if not model_name or model_name not in self.env:
            return
        Model = self.env[model_name]
        if not Model.has_access("read"):
            return
        if Model._abstract or Model._transient or not isinstance(Model, self.env.registry["mail.thread"]):
            return
        relation = "mail_template_ids" if template_type == "email" else "sms_template_ids"
        lacking = (
            self.sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("active", "=", True),
                    ("state", "=", "published"),
                    ("template_type", "=", template_type),
                    (relation, "not any", [("model", "=", model_name)]),
                ]
            )
        )
        if not lacking:
            return
        ir_model = self.env["ir.model"].sudo()._get(model_name)
        if template_type == "sms" and not ir_model.is_mail_thread_sms:
            return
        lacking._sync_odoo_templates(ir_models=ir_model)
