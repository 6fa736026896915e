import re
from email.utils import formataddr

from lxml import etree
from lxml import html as lxml_html
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize, format_datetime, is_html_empty
from odoo.tools.mail import email_split_and_format

CONVERSATION = "comunik.mail.conversation"
MODES = [("new", "New Email"), ("reply_all", "Reply All"), ("forward", "Forward")]
#: Prefixes of replies and forwards, in French and English clients: never doubled.
REPLY_PREFIX_RE = re.compile(r"^\s*(re|aw)\s*:", re.IGNORECASE)
FORWARD_PREFIX_RE = re.compile(r"^\s*(tr|fwd?|wg)\s*:", re.IGNORECASE)
SIGNATURE_CLASS = "o_comunik_signature"


class ComunikMailCompose(models.TransientModel):
    """« Nouveau message », « Répondre à tous » and « Transférer » from a mailbox.

    One real email (To, Cc, Bcc) leaves through the box's own SMTP server with the box's address:
    Odoo's notifications would send one email per recipient and show nobody the others, so the
    message is posted without notifying anyone and a single ``mail.mail`` is built here. Who may write
    from a box is its record rules (owner, members and dispatchers, Email admins), checked on the
    values at create and write and again at sending, never trusted from the form.
    """

    _name = "comunik.mail.compose"
    _description = "Write an Email"

    mode = fields.Selection(MODES, default="new", required=True, readonly=True)
    conversation_id = fields.Many2one(CONVERSATION, readonly=True, ondelete="cascade")
    lead_id = fields.Many2one("crm.lead", readonly=True, ondelete="cascade")
    allowed_account_ids = fields.Many2many("comunik.mail.account", compute="_compute_allowed_account_ids")
    account_id = fields.Many2one(
        "comunik.mail.account",
        "From",
        required=True,
        ondelete="cascade",
        domain="[('id', 'in', allowed_account_ids)]",
    )
    partner_to_ids = fields.Many2many("res.partner", "comunik_mail_compose_to_rel", string="To")
    partner_cc_ids = fields.Many2many("res.partner", "comunik_mail_compose_cc_rel", string="Cc")
    partner_bcc_ids = fields.Many2many("res.partner", "comunik_mail_compose_bcc_rel", string="Bcc")
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    attachment_ids = fields.Many2many("ir.attachment", "comunik_mail_compose_attachment_rel", string="Attachments")
    template_id = fields.Many2one(
        "mail.template",
        domain=[("model", "=", CONVERSATION), ("comunik_template_id", "!=", False)],
        ondelete="set null",
    )
    close_after_send = fields.Boolean("Close after sending")

    def _compute_allowed_account_ids(self):
        accounts = self.env["comunik.mail.account"]._sendable_accounts()
        for wizard in self:
            wizard.allowed_account_ids = accounts

    # ------------------------------------------------------------------ rights

    def _check_user_values(self, vals):
        """Values sent by a client: a box one may write from, documents one may read, one's own files."""
        if self.env.su:
            return
        if vals.get("account_id"):
            self.env["comunik.mail.account"].browse(vals["account_id"])._check_can_send()
        if vals.get("conversation_id"):
            self.env[CONVERSATION].browse(vals["conversation_id"]).check_access("read")
        if vals.get("lead_id"):
            self.env["crm.lead"].browse(vals["lead_id"]).check_access("read")

    def _check_can_send(self):
        """At sending, everything again, on the stored values."""
        self.ensure_one()
        self.account_id._check_can_send()
        if self.mode != "new":
            if not self.conversation_id:
                raise UserError(self.env._("This email answers a conversation that no longer exists."))
            self.conversation_id.check_access("read")
            if self.conversation_id.account_id != self.account_id:
                raise UserError(self.env._("A reply leaves from the mailbox of its conversation."))
        elif self.conversation_id:
            raise UserError(self.env._("A new email starts a conversation of its own."))
        if self.lead_id:
            self.lead_id.check_access("read")
        self._attachments().check_access("read")
        if self.close_after_send and self.conversation_id:
            self.conversation_id._check_can_work()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_user_values(vals)
        wizards = super().create(vals_list)
        if not self.env.su:
            wizards._attachments().check_access("read")
        return wizards

    def write(self, vals):
        self._check_user_values(vals)
        result = super().write(vals)
        if "attachment_ids" in vals and not self.env.su:
            self._attachments().check_access("read")
        return result

    def _attachments(self):
        """Every attachment linked, in the caller's env: reading the field would silently leave out those the
        caller may not read (ir.attachment's search), which must be refused instead."""
        return self.sudo().attachment_ids.with_env(self.env)

    # ------------------------------------------------------------------ defaults

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        context = self.env.context
        Account = self.env["comunik.mail.account"]
        self.env["comunik.mail.template"]._ensure_model_templates(CONVERSATION, "email")
        mode = values.get("mode") or "new"
        active_model, active_id = context.get("active_model"), context.get("active_id")
        if mode != "new":
            conversation = self.env[CONVERSATION].browse(
                values.get("conversation_id") or (active_id if active_model == CONVERSATION else False)
            )
            if len(conversation) != 1:
                raise UserError(self.env._("Open a conversation to reply to all or forward it."))
            conversation.check_access("read")
            values.update(conversation_id=conversation.id, account_id=conversation.account_id.id)
            values.update(self._reply_values(conversation, mode))
            return values
        account = Account.browse(values.get("account_id"))
        sendable = Account._sendable_accounts()
        if account not in sendable:
            primary = Account.browse(self.env.user.comunik_primary_account_id.id)
            account = primary if primary in sendable else sendable[:1]
        values["account_id"] = account.id
        partner = self.env["res.partner"]
        if active_model == "res.partner" and active_id:
            partner = partner.browse(active_id)
            partner.check_access("read")
        elif active_model == "crm.lead" and active_id and not values.get("lead_id"):
            lead = self.env["crm.lead"].browse(active_id)
            lead.check_access("read")
            values["lead_id"] = lead.id
            partner = lead.partner_id or self._partners_of([lead.email_from])
            values.setdefault("subject", lead.name)
        if partner:
            values["partner_to_ids"] = [(6, 0, partner[:1].ids)]
        values["body"] = self._body(account)
        return values

    def _partners_of(self, addresses):
        """Partners of formatted addresses, found or created as the mail sync does (sudo: not every user may
        create contacts, and these addresses come from documents the caller was checked to read)."""
        Partner = self.env["res.partner"]
        emails = [address for text in addresses if text for address in email_split_and_format(text)]
        if not emails:
            return Partner
        found = Partner.sudo()._find_or_create_from_emails(emails)
        return Partner.browse([partner.id for partner in found if partner]).exists()

    def _reply_values(self, conversation, mode):
        """Recipients, subject, body and attachments of a reply to all or a forward of the conversation."""
        account = conversation.account_id
        original = conversation._last_email() or self._last_message(conversation)
        subject = original.subject or conversation.subject or ""
        if mode == "forward":
            attachments = original.attachment_ids.sudo()
            # The user's own pending files until sent (then moved to the conversation, see action_send).
            copies = attachments.copy({"res_model": self._name, "res_id": 0}) if attachments else ()
            return {
                "subject": subject if FORWARD_PREFIX_RE.match(subject) else self.env._("Fwd: %s", subject),
                "body": self._body(account, quote=self._forward_quote(original)),
                "attachment_ids": [(6, 0, [copy.id for copy in copies])],
            }
        own = account._own_addresses() | {email_normalize(self.env.user.email or "")}
        to = self._partners_of([original.reply_to or original.email_from]) if original else conversation.partner_id
        to = to.filtered(lambda partner: partner.email_normalized not in own) or conversation.partner_id
        cc = self._partners_of([original.incoming_email_to, original.incoming_email_cc]) if original else to.browse()
        cc = cc.filtered(lambda partner: partner.email_normalized not in own) - to
        return {
            "partner_to_ids": [(6, 0, to.ids)],
            "partner_cc_ids": [(6, 0, cc.ids)],
            "subject": subject if REPLY_PREFIX_RE.match(subject) else f"Re: {subject}",
            "body": self._body(account),
        }

    def _last_message(self, conversation):
        """Our own last email of a conversation that received none (a conversation we started)."""
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", CONVERSATION),
                    ("res_id", "=", conversation.id),
                    ("message_type", "=", "comment"),
                    ("subtype_id", "=", self.env.ref("mail.mt_comment").id),
                ],
                order="date desc, id desc",
                limit=1,
            )
        )

    def _forward_quote(self, message):
        """The French-style header block and the quoted original of a forward."""
        if not message:
            return Markup("")
        lines = [
            (self.env._("From:"), message.email_from or message.author_id.email_formatted or ""),
            (self.env._("Date:"), format_datetime(self.env, message.date, tz=self.env.user.tz) if message.date else ""),
            (self.env._("Subject:"), message.subject or ""),
            (self.env._("To:"), message.incoming_email_to or ", ".join(message.partner_ids.mapped("email_formatted"))),
        ]
        if message.incoming_email_cc:
            lines.append((self.env._("Cc:"), message.incoming_email_cc))
        header = Markup("<br/>").join(Markup("%s %s") % (label, value) for label, value in lines)
        return Markup('<div class="o_comunik_forward"><p>%s<br/>%s</p><blockquote>%s</blockquote></div>') % (
            self.env._("---------- Forwarded message ----------"),
            header,
            Markup(message.body or ""),
        )

    def _body(self, account, content=None, quote=None):
        """Body of a new email: what to write (or a template's text), the box's signature, the quote."""
        signature = self._signature(account)
        parts = [Markup(content) if content and not is_html_empty(content) else Markup("<p><br/></p>")]
        if signature:
            parts.append(Markup('<div class="%s">%s</div>') % (SIGNATURE_CLASS, signature))
        if quote:
            parts.append(quote)
        return Markup("").join(parts)

    def _signature(self, account):
        """The user's signature for ``account``, only from a box they may write from (onchange values are
        anybody's: another box's signature is never rendered)."""
        account = account._origin
        if not account or not account.sudo(False).has_access("read"):
            return Markup("")
        return account._signature_html(self.env.user)

    # ------------------------------------------------------------------ onchange

    @api.onchange("account_id")
    def _onchange_account_id(self):
        """Another box, its signature (in place of the previous one)."""
        if not self.account_id or not self.body:
            return
        root = lxml_html.fragment_fromstring(str(self.body), create_parent="div")
        blocks = root.find_class(SIGNATURE_CLASS)
        if not blocks:
            return
        signature = self._signature(self.account_id)
        new = lxml_html.fragment_fromstring(str(signature) or "", create_parent="div")
        new.set("class", SIGNATURE_CLASS)
        blocks[0].getparent().replace(blocks[0], new)
        self.body = Markup(etree.tostring(root, encoding="unicode", method="html")[len("<div>") : -len("</div>")])

    @api.onchange("template_id")
    def _onchange_template_id(self):
        """A published template fills subject and body, rendered for the first recipient (else for the
        conversation's correspondent); the signature and a forward's quote stay."""
        template = self.env["mail.template"].browse(self.template_id._origin.id)
        # Published templates only (a draft's copy is archived, and drafts are for the admins).
        if not template.active or template.model != CONVERSATION or not template.comunik_template_id:
            return None
        partner = self.env["res.partner"].browse(self.partner_to_ids[:1]._origin.id)
        conversation = self.env[CONVERSATION].browse(self.conversation_id._origin.id)
        if partner:
            partner.check_access("read")
            model, res_id = "res.partner", partner.id
        elif conversation:
            conversation.check_access("read")
            model, res_id = CONVERSATION, conversation.id
        else:
            self.template_id = False
            return {
                "warning": {
                    "title": self.env._("Choose a recipient first"),
                    "message": self.env._("The template is written for the recipient: choose who you write to first."),
                }
            }
        subject = template._render_template(template.subject, model, [res_id])[res_id]
        body = template._render_template(
            template.body_html, model, [res_id], engine="qweb", options={"post_process": True}
        )[res_id]
        self.subject = subject
        quote = None
        if self.mode == "forward" and self.body:
            root = lxml_html.fragment_fromstring(str(self.body), create_parent="div")
            found = root.find_class("o_comunik_forward")
            quote = Markup(etree.tostring(found[0], encoding="unicode", method="html")) if found else None
        self.body = self._body(self.account_id, content=body, quote=quote)
        return None

    # ------------------------------------------------------------------ sending

    def action_send(self):
        """« Envoyer »: one email from the box, in a new conversation or in the one answered."""
        self.ensure_one()
        self._check_can_send()
        recipients = self.partner_to_ids | self.partner_cc_ids | self.partner_bcc_ids
        if not recipients:
            raise UserError(self.env._("Add at least one recipient."))
        invalid = recipients.filtered(lambda partner: not partner.email_normalized)
        if invalid:
            raise UserError(
                self.env._("These recipients have no valid email address: %s.", ", ".join(invalid.mapped("name")))
            )
        if not (self.subject or "").strip():
            raise UserError(self.env._("Write a subject."))
        account = self.account_id
        conversation = self.conversation_id or self._create_conversation()
        conversation = conversation.with_env(self.env)
        in_reply_to = conversation._last_email().message_id if self.mode != "new" else False
        own_files = self.attachment_ids.sudo().filtered(
            lambda a: a.res_model == self._name and a.create_uid == self.env.user
        )
        own_files.write({"res_model": CONVERSATION, "res_id": conversation.id})
        message = conversation.with_context(mail_create_nosubscribe=True).message_post(
            body=self.body or "",
            subject=self.subject,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_from=formataddr((account._sender_name(self.env.user), account.sudo().email)),
            attachment_ids=self.attachment_ids.ids,
            partner_ids=[],
            notify_skip_followers=True,
        )
        message.sudo().partner_ids = self.partner_to_ids | self.partner_cc_ids
        headers = {}
        if in_reply_to:
            headers["In-Reply-To"] = in_reply_to
        if self.partner_bcc_ids:
            headers["Bcc"] = ", ".join(self.partner_bcc_ids.mapped("email_formatted"))
        mail = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "mail_message_id": message.id,
                    "body_html": message.body,
                    "email_from": message.email_from,
                    "reply_to": message.reply_to,
                    "email_to": ", ".join(self.partner_to_ids.mapped("email_formatted")),
                    "email_cc": ", ".join(self.partner_cc_ids.mapped("email_formatted")),
                    "mail_server_id": account.sudo().mail_server_id.id,
                    "references": conversation._thread_references(message),
                    "headers": repr(headers),
                    "attachment_ids": [(6, 0, message.attachment_ids.ids)],
                    "is_notification": True,
                    "auto_delete": True,
                }
            )
        )
        if self.close_after_send and self.mode != "new":
            conversation.action_close()
        mail.send_after_commit()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Email sent from %s.", account.sudo().email),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _create_conversation(self):
        """The conversation of a new email: ours from the start, so assigned to its writer and answered."""
        now = fields.Datetime.now()
        account = self.account_id.sudo()
        closed = self.close_after_send
        values = {
            "account_id": account.id,
            "subject": self.subject,
            "partner_id": self.partner_to_ids[:1].id or (self.partner_cc_ids | self.partner_bcc_ids)[:1].id,
            "email_from": formataddr((account._sender_name(self.env.user), account.email)),
            "date_first": now,
            "date_last": now,
            "user_id": self.env.uid,
            "last_user_id": self.env.uid,
            "assign_date": now,
            "state": "closed" if closed else "in_progress",
            "close_date": now if closed else False,
            "is_new": False,
            "first_response_date": now,
            "lead_id": self.lead_id.id,
        }
        return self.env[CONVERSATION].sudo().with_context(mail_create_nolog=True).create(values)
