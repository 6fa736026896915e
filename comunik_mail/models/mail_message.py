from odoo import fields, models
from odoo.exceptions import UserError

#: Set by the sync alone: they decide which emails count as already stored for an account.
SYNC_FIELDS = {
    "comunik_account_id",
    "comunik_folder_id",
    "comunik_uid",
    "comunik_uidvalidity",
    "comunik_content_digest",
    "comunik_sender_date",
    "comunik_degraded",
    "comunik_degraded_reason",
    "comunik_outgoing",
}


class MailMessage(models.Model):
    _inherit = "mail.message"

    # Set only on messages synchronized from a mailbox: the key of "each email exactly once per account".
    comunik_account_id = fields.Many2one(
        "comunik.mail.account", "Email Account", index="btree_not_null", readonly=True, ondelete="cascade"
    )
    comunik_folder_id = fields.Many2one("comunik.mail.folder", "IMAP Folder", readonly=True, ondelete="set null")
    comunik_uid = fields.Float("IMAP UID", digits=(12, 0), readonly=True)  # unsigned 32-bit
    comunik_uidvalidity = fields.Char("UIDVALIDITY", readonly=True)  # what comunik_uid means
    # Tells a re-fetch of this email (same digest) from a different email reusing its Message-ID.
    comunik_content_digest = fields.Char("Content Digest", readonly=True)
    # The sender's Date: header when sane (shown); ``date`` is the receive date (orders, starts deadlines).
    comunik_sender_date = fields.Datetime("Sender's Date", readonly=True)
    comunik_degraded = fields.Boolean("Received With Errors", readonly=True)
    # Found in the box's Sent folder: an answer sent from another client (Outlook, a phone, a webmail).
    comunik_outgoing = fields.Boolean("Sent From Another Client", readonly=True)
    comunik_degraded_reason = fields.Text(
        "Reception Error", readonly=True, groups="comunik_mail.group_comunik_mail_admin"
    )

    _comunik_account_message_uniq = models.UniqueIndex(
        "(comunik_account_id, message_id) WHERE comunik_account_id IS NOT NULL",
        "This email was already synchronized for this account.",
    )

    def _has_field_access(self, field, operation):
        if operation == "write" and not self.env.su and field.name in SYNC_FIELDS:
            return False
        return super()._has_field_access(field, operation)

    def action_comunik_split(self):
        """« Séparer »: this email of a conversation starts a new conversation of the same box, *Non assigné*.

        Rights are those of working the email's conversation, checked before the superuser moves it.
        """
        self.ensure_one()
        self.check_access("read")
        Conversation = self.env["comunik.mail.conversation"]
        if self.model != Conversation._name or self.message_type != "email" or not self.res_id:
            raise UserError(self.env._("Only an email of a conversation can be split into a new conversation."))
        conversation = Conversation.browse(self.res_id)
        conversation.check_access("read")
        conversation._check_can_work()
        if not conversation.active:
            raise UserError(self.env._("Emails of an archived or merged conversation cannot be split."))
        if conversation.message_count < 2:
            raise UserError(self.env._("This is the only email of the conversation: there is nothing to split."))
        new = conversation.sudo()._split_message(self.sudo())
        return {
            "type": "ir.actions.act_window",
            "res_model": Conversation._name,
            "res_id": new.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
