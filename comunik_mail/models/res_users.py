from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    # One field per user makes "at most one primary box per user" hold by construction.
    comunik_primary_account_id = fields.Many2one(
        "comunik.mail.account",
        "Primary Email Account",
        ondelete="set null",
        # Another user's primary box would show its address: users change theirs with action_set_primary,
        # the code reads it through env.user (superuser record).
        groups="base.group_system",
        help="Mailbox shown by default when opening the Email app.",
    )
