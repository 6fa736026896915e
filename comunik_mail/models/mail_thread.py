from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools.mail import parse_contact_from_email

from .comunik_mail_template import placeholder_expressions
from .mail_message import SYNC_FIELDS


class MailThread(models.AbstractModel):
    """What the placeholders of the Email app templates render, on every document with a chatter.

    The recipient is the document's customer as Odoo sees it (``_message_add_default_recipients``:
    a conversation's correspondent, a lead's partner, a contact itself...), or, without a contact,
    the document's own name / email / company fields (e.g. a lead's contact name and email).
    These plain fields are whitelisted for Odoo's safe rendering path (field reads, no evaluation).
    """

    _inherit = "mail.thread"

    comunik_recipient_name = fields.Char("Template: Recipient Full Name", compute="_compute_comunik_recipient")
    comunik_recipient_email = fields.Char("Template: Recipient Email", compute="_compute_comunik_recipient")
    comunik_recipient_company = fields.Char("Template: Recipient Company", compute="_compute_comunik_recipient")
    comunik_recipient_phone = fields.Char("Template: Recipient Phone", compute="_compute_comunik_recipient")
    comunik_user_name = fields.Char("Template: Sending User", compute="_compute_comunik_sender")
    comunik_sender_email = fields.Char("Template: Sender Address", compute="_compute_comunik_sender")

    def _message_create(self, values_list):
        """Posting (message_post, message_notify, logs) creates messages with sudo: refuse the sync's own
        fields there, or any user could make a box believe an email is already stored and drop it."""
        if any(SYNC_FIELDS & set(values) for values in values_list):
            raise AccessError(self.env._("These values are set by the mailbox synchronization only."))
        return super()._message_create(values_list)

    @api.model
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + placeholder_expressions()

    def _compute_comunik_recipient(self):
        values = self._comunik_recipient_values()
        for record in self:
            recipient = values.get(record.id, {})
            record.comunik_recipient_name = recipient.get("fullname", "")
            record.comunik_recipient_email = recipient.get("email", "")
            record.comunik_recipient_company = recipient.get("company", "")
            record.comunik_recipient_phone = recipient.get("phone", "")

    @api.depends_context("uid")
    def _compute_comunik_sender(self):
        emails = self._comunik_sender_emails()
        for record in self:
            record.comunik_user_name = self.env.user.name or ""
            record.comunik_sender_email = emails.get(record.id) or ""

    def _comunik_recipient_values(self):
        """{record id: {fullname, email, company, phone}} of the person a template addresses."""
        found = self._message_add_default_recipients()
        result = {}
        for record in self:
            defaults = found.get(record.id) or {}
            partner = (defaults.get("partners") or self.env["res.partner"])[:1]
            if partner:
                result[record.id] = {
                    # A person's company is their (commercial) company; a company's, its own name.
                    "fullname": partner.name or "",
                    "email": partner.email or "",
                    "company": partner.commercial_company_name or partner.parent_id.name or "",
                    "phone": partner.phone or "",
                }
                continue
            emails = defaults.get("email_to_lst") or []
            name, email = parse_contact_from_email(emails[0]) if emails else ("", "")
            result[record.id] = {
                "fullname": record._comunik_field("contact_name") or (name if email else "") or "",
                "email": email or "",
                "company": record._comunik_field("partner_name") or "",
                "phone": record._comunik_field("phone") or "",
            }
        return result

    def _comunik_field(self, fname):
        field = self._fields.get(fname)
        return self[fname] if field and field.type in ("char", "text") else ""

    def _comunik_sender_emails(self):
        """{record id: address of the From of the emails sent from it with a template}: the address of
        the email account the document belongs to (a conversation's), else the user's."""
        default = self.env.user.email or self.env.company.email or ""
        field = self._fields.get("account_id")
        if field is None or field.comodel_name != "comunik.mail.account":
            return {record.id: default for record in self}
        return {record.id: record.sudo().account_id.email or default for record in self}
