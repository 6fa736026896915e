from odoo import fields, models
from odoo.fields import Domain


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
