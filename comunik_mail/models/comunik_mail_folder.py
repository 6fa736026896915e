from odoo import api, fields, models
from odoo.exceptions import UserError

SPECIAL_USES = [
    ("inbox", "Inbox"),
    ("sent", "Sent Items"),
    ("drafts", "Drafts"),
    ("junk", "Junk"),
    ("trash", "Trash"),
    ("archive", "Archive"),
    ("all", "All Mail"),
    ("flagged", "Flagged"),
]
#: What users may write directly: nothing; the sync, « Actualiser les dossiers » and the toggle do it all.
USER_WRITABLE_FIELDS = frozenset()


class ComunikMailFolder(models.Model):
    """One IMAP folder of a box: whether it is synced, and its progress (messages up to ``last_uid`` of
    ``uidvalidity`` are stored).

    The list comes from the server (LIST, « Actualiser les dossiers »). INBOX is synced by default; the
    box's managers choose the others (Junk, Trash, Drafts and Gmail's « All Mail » are excluded by
    default). The Sent folder is always read, for the answers sent from other clients, and receives a
    copy of what Odoo sends.
    """

    _name = "comunik.mail.folder"
    _description = "IMAP Folder"
    _order = "account_id, is_inbox desc, name"

    account_id = fields.Many2one("comunik.mail.account", required=True, index=True, ondelete="cascade", readonly=True)
    name = fields.Char(required=True, default="INBOX", readonly=True)
    is_inbox = fields.Boolean(compute="_compute_is_inbox", store=True)
    special_use = fields.Selection(SPECIAL_USES, readonly=True)
    sync_enabled = fields.Boolean(
        "Synchronized",
        readonly=True,
        help="Its emails come into the inbox. The Sent folder is always read, for the answers sent from "
        "Outlook, a phone or a webmail.",
    )
    is_sent = fields.Boolean(
        "Sent Folder",
        readonly=True,
        help="The folder where the emails sent from Odoo are copied and where answers sent from other "
        "clients are read.",
    )
    excluded_by_default = fields.Boolean(readonly=True)
    present = fields.Boolean("On the Server", default=True, readonly=True)
    sync_error = fields.Char("Folder Error", readonly=True)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for an Integer (int4) column.
    uidvalidity = fields.Char("UIDVALIDITY", readonly=True)
    last_uid = fields.Float("Last UID", digits=(12, 0), readonly=True)
    # First scan (or rescan) of the period not finished yet: UIDs up to here come from the period only.
    scan_watermark = fields.Float(digits=(12, 0), readonly=True)

    _account_name_uniq = models.Constraint("UNIQUE(account_id, name)", "This folder is already synchronized.")

    @api.depends("name")
    def _compute_is_inbox(self):
        for folder in self:
            folder.is_inbox = (folder.name or "").upper() == "INBOX"

    @api.depends("name", "is_inbox")
    def _compute_display_name(self):
        for folder in self:
            folder.display_name = self.env._("Inbox") if folder.is_inbox else folder.name

    def _has_field_access(self, field, operation):
        if operation == "write" and not self.env.su and field.name not in USER_WRITABLE_FIELDS:
            return False
        return super()._has_field_access(field, operation)

    def action_toggle_sync(self):
        """« Synchroniser » on a folder of the box's list: only those who manage the box decide."""
        self.check_access("read")
        self.account_id._check_manage()
        for folder in self:
            if folder.is_inbox:
                raise UserError(self.env._("The inbox is always synchronized."))
            if folder.is_sent:
                raise UserError(
                    self.env._("The Sent folder is always read: it holds the answers sent from other clients.")
                )
            if not folder.present:
                raise UserError(self.env._("The folder %s no longer exists on the server.", folder.name))
        for folder in self.sudo():
            folder.sync_enabled = not folder.sync_enabled
        return True
