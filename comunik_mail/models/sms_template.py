from odoo import fields, models


class SmsTemplate(models.Model):
    """SMS templates owned by a published template of the Email app (one per model that can be
    texted), kept in sync by it; they only exist while it is published."""

    _inherit = "sms.template"

    comunik_template_id = fields.Many2one(
        "comunik.mail.template", "Email App Template", index="btree_not_null", ondelete="cascade", readonly=True
    )

    _comunik_template_model_uniq = models.UniqueIndex(
        "(comunik_template_id, model_id) WHERE comunik_template_id IS NOT NULL",
        "An Email app template has one SMS template per model.",
    )

    def _has_field_access(self, field, operation):
        """Only the Email app's Publish links a copy to its template."""
        if operation == "write" and field.name == "comunik_template_id" and not self.env.su:
            return False
        return super()._has_field_access(field, operation)
