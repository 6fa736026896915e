import ast

from odoo import api, models

from .comunik_mail_collision_mixin import seen_message_field

CONVERSATION = "comunik.mail.conversation"


class MailComposeMessage(models.TransientModel):
    """Odoo's full composer on a conversation: the same send guard as « Répondre à tous »."""

    _name = "mail.compose.message"
    _inherit = ["mail.compose.message", "comunik.mail.collision.mixin"]

    comunik_seen_message_id = seen_message_field()

    def _collision_conversation(self):
        if self.composition_mode != "comment" or self.model != CONVERSATION or self.subtype_is_log:
            return self.env[CONVERSATION]
        res_ids = self._evaluate_res_ids()
        if len(res_ids) != 1:
            return self.env[CONVERSATION]
        return self.env[CONVERSATION].browse(res_ids)

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        context = self.env.context
        model = values.get("model") or context.get("default_model")
        mode = values.get("composition_mode") or context.get("default_composition_mode") or "comment"
        if model == CONVERSATION and mode == "comment":
            res_ids = values.get("res_ids") or context.get("default_res_ids") or []
            if isinstance(res_ids, str):
                res_ids = ast.literal_eval(res_ids or "[]")
            if len(res_ids) == 1:
                conversation = self.env[CONVERSATION].browse(res_ids)
                conversation.check_access("read")
                values["comunik_seen_message_id"] = self._collision_marker(conversation)
        return values

    def action_send_mail(self):
        for wizard in self:
            step = wizard._collision_step()
            if step:
                return step
        return super().action_send_mail()
