from odoo import api, models


class MailComposeMessage(models.TransientModel):
    """Odoo's email composer lists the templates of its document's model: one opened on a model
    installed after some Email app templates were published gets them first."""

    _inherit = "mail.compose.message"

    @api.model
    def default_get(self, fields):
        model = self.env.context.get("default_model") or self.env.context.get("active_model")
        self.env["comunik.mail.template"]._ensure_model_templates(model, "email")
        return super().default_get(fields)
