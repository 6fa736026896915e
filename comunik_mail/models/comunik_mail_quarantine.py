import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import dedupe, imap_sync, mime

_logger = logging.getLogger(__name__)


class ComunikMailQuarantine(models.Model):
    """An email of a box that could be stored neither normally nor degraded: the sync moved past it.

    Shown on the account form (owner of a personal box, Email admins) with « Réessayer ».
    """

    _name = "comunik.mail.quarantine"
    _description = "Quarantined Email"
    _order = "date desc, id desc"

    account_id = fields.Many2one("comunik.mail.account", "Email Account", required=True, index=True, ondelete="cascade")
    folder_id = fields.Many2one("comunik.mail.folder", "IMAP Folder", ondelete="cascade")
    uidvalidity = fields.Char("UIDVALIDITY")
    uid = fields.Float("IMAP UID", digits=(12, 0))
    message_id = fields.Char("Message-ID")
    reason = fields.Text()
    date = fields.Datetime("Quarantined On", default=fields.Datetime.now)
    attempt_count = fields.Integer("Attempts", default=1)

    _folder_uid_uniq = models.Constraint(
        "UNIQUE(folder_id, uidvalidity, uid)", "This email is already in the quarantine."
    )

    @api.model
    def _put(self, account, folder, item, reason, uidvalidity=None):
        """Record (or update) the quarantine row of one fetched email."""
        uidvalidity = str(uidvalidity or folder.uidvalidity or "")
        match = mime.headers_only((item.raw or b"")[:65536])
        row = self.sudo().search(
            [("folder_id", "=", folder.id), ("uidvalidity", "=", uidvalidity), ("uid", "=", item.uid)], limit=1
        )
        values = {
            "reason": reason,
            "date": fields.Datetime.now(),
            "message_id": (dedupe.normalize_message_id(match.message_id) or "")[:255] or False,
        }
        if row:
            values["attempt_count"] = row.attempt_count + 1
            row.write(values)
            return row
        return self.sudo().create(
            {"account_id": account.id, "folder_id": folder.id, "uidvalidity": uidvalidity, "uid": item.uid, **values}
        )

    def action_retry(self):
        """« Réessayer »: fetch the email again and ingest it; on success its row goes."""
        self.check_access("read")
        self.account_id._check_manage()
        done = 0
        for row in self.sudo():
            account, folder = row.account_id, row.folder_id
            with imap_sync.ImapFolderReader(account._imap_login_settings(), folder.name or "INBOX") as reader:
                if str(reader.state.uidvalidity) != (row.uidvalidity or ""):
                    raise UserError(
                        self.env._(
                            "The mailbox %s was re-created on the server: this email will come back with the next "
                            "synchronization if it is still there.",
                            account.email,
                        )
                    )
                max_bytes = self.env["comunik.mail.ingestion"]._max_message_bytes()
                batches = list(reader.fetch([int(row.uid)], max_message_bytes=max_bytes))
            items = [item for batch in batches for item in batch]
            if not items:
                row.unlink()  # deleted from the server meanwhile
                done += 1
                continue
            result = self.env["comunik.mail.ingestion"]._ingest(account, folder, items, row.uidvalidity)
            if int(row.uid) not in result.quarantined:
                row.unlink()
                done += 1
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Quarantine"),
                "message": self.env._("%(done)s of %(count)s email(s) stored.", done=done, count=len(self)),
                "type": "success" if done == len(self) else "warning",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
