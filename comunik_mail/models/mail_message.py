from odoo import fields, models

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
