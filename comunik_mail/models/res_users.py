from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    # One field per user makes "at most one primary box per user" hold by construction.
    comunik_primary_account_id = fields.Many2one(
        "comunik.mail.account",
        "Primary Email Account",
        ondelete="set null",
        help="Mailbox shown by default when opening the Email app.",
    )
