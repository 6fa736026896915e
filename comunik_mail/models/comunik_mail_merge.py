from odoo import api, fields, models

from ..services import merge


class ComunikMailMerge(models.Model):
    """One conversation merged into another: which emails it brought, so that the merge can be undone.

    Written by the merge and the unmerge alone (superuser); Email admins may read it.
    """

    _name = "comunik.mail.merge"
    _description = "Conversation Merge"
    _order = "merge_date desc, id desc"
    _rec_name = "source_id"

    source_id = fields.Many2one(
        "comunik.mail.conversation", "Merged Conversation", required=True, index=True, ondelete="cascade"
    )
    target_id = fields.Many2one(
        "comunik.mail.conversation", "Merged Into", required=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", "Merged By", ondelete="set null")
    merge_date = fields.Datetime("Merged On", required=True)
    message_ids = fields.Many2many(
        "mail.message", "comunik_mail_merge_message_rel", "merge_id", "message_id", string="Moved Emails"
    )
    # The target's own first response before the merge (the merged-away one's may have been earlier).
    target_first_response_date = fields.Datetime("Target's First Response")
    unmerge_date = fields.Datetime("Undone On")
    unmerge_user_id = fields.Many2one("res.users", "Undone By", ondelete="set null")

    @api.model
    def _undoable(self, conversations, now):
        """The merges of these conversations (into them, or of them) that can still be undone at ``now``."""
        logs = self.sudo().search(
            [
                "|",
                ("target_id", "in", conversations.ids),
                ("source_id", "in", conversations.ids),
                ("unmerge_date", "=", False),
            ]
        )
        return logs.filtered(lambda log: merge.can_unmerge(log.merge_date, now))
