from odoo import api, fields, models

from ..models.comunik_mail_conversation import PRIORITIES


class ComunikMailAssignWizard(models.TransientModel):
    """Dispatch: assign one or many conversations to a member of their mailbox's departments."""

    _name = "comunik.mail.assign.wizard"
    _description = "Assign Emails"

    conversation_ids = fields.Many2many("comunik.mail.conversation", string="Emails", required=True)
    allowed_user_ids = fields.Many2many("res.users", compute="_compute_allowed_user_ids")
    user_id = fields.Many2one("res.users", "Assign To", required=True, domain="[('id', 'in', allowed_user_ids)]")
    priority = fields.Selection(PRIORITIES, default="0", required=True)

    @api.model
    def default_get(self, fields_list):
        return with_selected_conversations(self.env, super().default_get(fields_list))

    @api.depends("conversation_ids")
    def _compute_allowed_user_ids(self):
        """Only members of the departments of every mailbox concerned can be offered."""
        for wizard in self:
            users = None
            for account in wizard.conversation_ids.account_id:
                members = account._member_users()
                users = members if users is None else users & members
            wizard.allowed_user_ids = users or self.env["res.users"]

    def action_assign(self):
        self.conversation_ids.action_assign(self.user_id, self.priority)
        return {"type": "ir.actions.act_window_close"}


def with_selected_conversations(env, values):
    """Default values of a wizard opened on a selection of conversations (list action or form button): its
    ``conversation_ids``. The ids come from the context; the wizard's action checks the rights on each."""
    if env.context.get("active_model") == "comunik.mail.conversation":
        values["conversation_ids"] = [(6, 0, env.context.get("active_ids", []))]
    return values
