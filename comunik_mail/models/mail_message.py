from odoo import fields, models

#: Set by the sync alone: they decide which emails count as already stored for an account.
SYNC_FIELDS = {"comunik_account_id", "comunik_folder_id", "comunik_uid"}


class MailMessage(models.Model):
    _inherit = "mail.message"

    # Set only on messages synchronized from a mailbox: the key of "each email exactly once per account".
    comunik_account_id = fields.Many2one(
        "comunik.mail.account", "Email Account", index="btree_not_null", readonly=True, ondelete="cascade"
    )
    comunik_folder_id = fields.Many2one("comunik.mail.folder", "IMAP Folder", readonly=True, ondelete="set null")
    comunik_uid = fields.Float("IMAP UID", digits=(12, 0), readonly=True)  # unsigned 32-bit

    _comunik_account_message_uniq = models.UniqueIndex(
        "(comunik_account_id, message_id) WHERE comunik_account_id IS NOT NULL",
        "This email was already synchronized for this account.",
    )

    def _has_field_access(self, field, operation):
        if operation == "write" and not self.env.su and field.name in SYNC_FIELDS:
            return False
        return super()._has_field_access(field, operation)
