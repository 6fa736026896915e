from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import email_normalize

from ..services import mime


class ComunikMailLabel(models.Model):
    """Coloured tag of conversations, applied on receipt to mail sent to its recipient addresses
    (guide: « Champ Destinataire dans la configuration des labels »)."""

    _name = "comunik.mail.label"
    _description = "Email Label"
    _order = "name, id"

    name = fields.Char(required=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    recipient_emails = fields.Text(
        "Recipient Addresses",
        help="One or more addresses, separated by commas or new lines: every email received with one of "
        "them in To or Cc gets this label.",
    )
    conversation_count = fields.Integer("Emails", compute="_compute_conversation_count")

    _name_unique = models.Constraint("UNIQUE(name)", "A label with this name already exists.")

    def _recipient_addresses(self):
        """Normalized (lower-case, display names dropped) addresses of the rule, in order, without duplicates."""
        self.ensure_one()
        addresses = [email_normalize(item) for item in _items(self.recipient_emails)]
        return list(dict.fromkeys(address for address in addresses if address))

    @api.constrains("recipient_emails")
    def _check_recipient_emails(self):
        for label in self:
            for item in _items(label.recipient_emails):
                if not email_normalize(item):
                    raise ValidationError(
                        self.env._(
                            "“%(address)s” is not a valid email address (label %(label)s).",
                            address=item,
                            label=label.name,
                        )
                    )

    def _compute_conversation_count(self):
        counts = dict(
            self.env["comunik.mail.conversation"]._read_group(
                [("label_ids", "in", self.ids)], ["label_ids"], ["__count"]
            )
        )
        for label in self:
            label.conversation_count = counts.get(label, 0)

    @api.model
    def _labels_by_address(self):
        """Normalized address -> label ids, for the rules of every active label (a handful of rows)."""
        mapping = {}
        for label in self.sudo().search([("recipient_emails", "!=", False)]):
            for address in label._recipient_addresses():
                mapping.setdefault(address, []).append(label.id)
        return mapping

    @api.model
    def _match(self, addresses, mapping):
        """Label ids for the given (To + Cc) addresses; case and display names do not matter."""
        label_ids = set()
        for address in addresses:
            label_ids.update(mapping.get(email_normalize(address) or "", ()))
        return label_ids

    def action_apply_to_existing(self):
        """Label the conversations already received whose emails were sent (To/Cc) to the rule's addresses."""
        self.ensure_one()
        self.check_access("write")  # administrators: it labels mail of every box
        addresses = self._recipient_addresses()
        if not addresses:
            raise ValidationError(self.env._("Fill in at least one recipient address first."))
        Message = self.env["mail.message"].sudo()
        # ILIKE narrows the candidates; the exact address match below drops « xsupport@ » for « support@ ».
        domain = (
            Domain("model", "=", "comunik.mail.conversation")
            & Domain("message_type", "=", "email")
            & Domain.OR(
                Domain("incoming_email_to", "ilike", address) | Domain("incoming_email_cc", "ilike", address)
                for address in addresses
            )
        )
        candidates = Message.search_fetch(domain, ["res_id", "incoming_email_to", "incoming_email_cc"])
        mapping = dict.fromkeys(addresses, [self.id])
        conversation_ids = {
            message.res_id
            for message in candidates
            if self._match(_header_addresses(message.incoming_email_to, message.incoming_email_cc), mapping)
        }
        conversations = self.env["comunik.mail.conversation"].sudo().browse(conversation_ids)
        conversations.write({"label_ids": [(4, self.id)]})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Label %(label)s applied to %(count)s email(s).", label=self.name, count=len(conversations)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


def _items(text):
    """What the user typed, split on commas, semicolons and new lines."""
    return [item.strip() for item in (text or "").replace(";", ",").replace("\n", ",").split(",") if item.strip()]


def _header_addresses(*headers):
    """Bare addresses of raw To/Cc header values (display names, quoting and case ignored)."""
    return [email for header in headers if header for _name, email in mime.addresses(header)]
