from odoo import fields, models


class MailTemplate(models.Model):
    """Email templates owned by a template of the Email app (one per model with a chatter),
    kept in sync by it; archived while it is a draft."""

    _inherit = "mail.template"

    comunik_template_id = fields.Many2one(
        "comunik.mail.template", "Email App Template", index="btree_not_null", ondelete="cascade", readonly=True
    )

    _comunik_template_model_uniq = models.UniqueIndex(
        "(comunik_template_id, model_id) WHERE comunik_template_id IS NOT NULL",
        "An Email app template has one email template per model.",
    )

    def _has_field_access(self, field, operation):
        """Only the Email app's Publish links a copy to its template."""
        if operation == "write" and field.name == "comunik_template_id" and not self.env.su:
            return False
        return super()._has_field_access(field, operation)
