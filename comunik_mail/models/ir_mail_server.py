from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import email_normalize

from odoo.addons.base.models.ir_mail_server import extract_rfc2822_addresses


class IrMailServer(models.Model):
    """Outgoing servers of mailboxes that only their own replies may use."""

    _inherit = "ir.mail_server"

    comunik_private = fields.Boolean(
        "Mailbox Server Only",
        help="Server of an Email app mailbox configured by someone who is not a Settings administrator: "
        "Odoo never chooses it for other mail; only the mailbox's own replies leave through it.",
    )

    def _find_mail_server_allowed_domain(self):
        return super()._find_mail_server_allowed_domain() & Domain("comunik_private", "=", False)

    @api.model
    def _prepare_smtp_to_list(self, message, smtp_session):
        """Bcc recipients (the ``Bcc`` header of a mail.mail written from a box) join the SMTP envelope.

        Odoo's mail queue restricts the envelope to the mail's validated To and Cc (``send_validated_to``),
        which would drop them; the Bcc header itself is removed before sending (``_prepare_email_message``).
        """
        to_list = super()._prepare_smtp_to_list(message, smtp_session)
        if self.env.context.get("send_validated_to") and message["Bcc"]:
            skip = self.env.context.get("send_smtp_skip_to") or []
            for address in extract_rfc2822_addresses(message["Bcc"]):
                if address not in to_list and email_normalize(address, strict=False) not in skip:
                    to_list.append(address)
        return to_list
