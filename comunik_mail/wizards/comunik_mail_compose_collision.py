from odoo import api, models

from .comunik_mail_collision_mixin import seen_message_field


class ComunikMailCompose(models.TransientModel):
    """« Répondre à tous » / « Transférer » record the newest message when they open; sending asks for a
    confirmation when a customer email or a colleague's reply arrived since (see the collision mixin)."""

    _name = "comunik.mail.compose"
    _inherit = ["comunik.mail.compose", "comunik.mail.collision.mixin"]

    comunik_seen_message_id = seen_message_field()

    def _collision_conversation(self):
        if self.mode == "new":
            return self.conversation_id.browse()
        return self.conversation_id

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        if values.get("mode", "new") != "new" and values.get("conversation_id"):
            conversation = self.env["comunik.mail.conversation"].browse(values["conversation_id"])
            values["comunik_seen_message_id"] = self._collision_marker(conversation)
        return values

    def action_send(self):
        self.ensure_one()
        self._check_can_send()
        step = self._collision_step()
        if step:
            return step
        return super().action_send()
