from odoo import fields, models


class ComunikMailFolder(models.Model):
    """Sync progress of one IMAP folder: messages up to ``last_uid`` of ``uidvalidity`` are stored."""

    _name = "comunik.mail.folder"
    _description = "IMAP Folder"
    _order = "account_id, name"

    account_id = fields.Many2one("comunik.mail.account", required=True, index=True, ondelete="cascade")
    name = fields.Char(required=True, default="INBOX")
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for an Integer (int4) column.
    uidvalidity = fields.Char("UIDVALIDITY", readonly=True)
    last_uid = fields.Float("Last UID", digits=(12, 0), readonly=True)
    # First scan (or rescan) of the period not finished yet: UIDs up to here come from the period only.
    scan_watermark = fields.Float(digits=(12, 0), readonly=True)

    _account_name_uniq = models.Constraint("UNIQUE(account_id, name)", "This folder is already synchronized.")
