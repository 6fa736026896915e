from odoo import api, models


class SmsComposer(models.TransientModel):
    """Odoo's SMS composer lists the SMS templates of its document's model (see the email composer)."""

    _inherit = "sms.composer"

    @api.model
    def default_get(self, fields):
        model = self.env.context.get("default_res_model") or self.env.context.get("active_model")
        self.env["comunik.mail.template"]._ensure_model_templates(model, "sms")
        return super().default_get(fields)
