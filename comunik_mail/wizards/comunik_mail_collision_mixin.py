from odoo import api, fields, models

CONVERSATION = "comunik.mail.conversation"


def seen_message_field():
    """The composer's marker: the newest message of the conversation when it opened (0: no marker)."""
    return fields.Integer(
        "Newest Message Seen", help="The newest message of the conversation when the composer opened."
    )


class ComunikMailCollisionMixin(models.AbstractModel):
    """The send guard of the composers that answer a conversation (« Répondre à tous », Odoo's full composer).

    When the composer opens, it records the newest message of the conversation (``comunik_seen_message_id``,
    sent back by the form). At sending, if customer emails or colleagues' replies arrived since, the composer
    comes back with them listed (sender, date, excerpt) and « Envoyer quand même », which sends unless even
    newer ones arrived meanwhile. Without a marker (API clients), sending works as before.
    """

    _name = "comunik.mail.collision.mixin"
    _description = "Send Guard of Replies"

    # Each composer declares its own stored ``comunik_seen_message_id`` (SEEN_FIELD): a field of its own,
    # classified with its own rights in the access matrix (an abstract model has no record to write).
    comunik_newer_html = fields.Html(
        "New Since Opened", compute="_compute_comunik_newer", sanitize=False, help="Messages arrived since."
    )
    comunik_newer_up_to = fields.Integer("Newest New Message", compute="_compute_comunik_newer")

    def _collision_conversation(self):
        """The conversation this composer answers (empty when it answers none)."""
        return self.env[CONVERSATION]

    @api.model
    def _collision_marker(self, conversation):
        """The id of the newest message of ``conversation`` (0 without one)."""
        if not conversation:
            return 0
        newest = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", CONVERSATION), ("res_id", "=", conversation.id)], order="id desc", limit=1)
        )
        return newest.id

    def _compute_comunik_newer(self):
        for wizard in self:
            conversation = wizard._collision_conversation()
            newer = conversation._newer_messages(wizard.comunik_seen_message_id) if conversation else None
            wizard.comunik_newer_up_to = max(newer.ids) if newer else 0
            wizard.comunik_newer_html = conversation._newer_messages_html(newer) if newer else False

    def _collision_step(self):
        """None when the reply may leave; else the action showing this composer again with what is new.
        ``comunik_confirm_up_to`` in the context: the newest message the user was shown and confirmed."""
        self.ensure_one()
        conversation = self._collision_conversation()
        if not conversation or not self.comunik_seen_message_id:
            return None
        conversation.check_access("read")
        confirmed = int(self.env.context.get("comunik_confirm_up_to") or 0)
        if not conversation._newer_messages(self.comunik_seen_message_id, confirmed):
            return None
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New messages since you started writing"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {key: value for key, value in self.env.context.items() if key != "comunik_confirm_up_to"},
        }
