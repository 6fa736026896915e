from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .comunik_mail_assign_wizard import with_selected_conversations


class ComunikMailMergeWizard(models.TransientModel):
    """« Fusionner »: conversations of one box into the one chosen (by default the oldest).

    Warns when the customers differ; merging them anyway needs the confirmation box ticked.
    ``action_merge`` goes through ``comunik.mail.conversation.action_merge``, which checks every right.
    """

    _name = "comunik.mail.merge.wizard"
    _description = "Merge Conversations"

    conversation_ids = fields.Many2many("comunik.mail.conversation", string="Conversations", required=True)
    target_id = fields.Many2one(
        "comunik.mail.conversation",
        "Keep",
        compute="_compute_target_id",
        store=True,
        copy=False,
        readonly=False,
        domain="[('id', 'in', conversation_ids)]",
        help="The conversation that receives the emails of the others; they are archived.",
    )
    customers_differ = fields.Boolean(compute="_compute_customers_differ")
    customer_names = fields.Char("Customers", compute="_compute_customers_differ")
    confirm_customers = fields.Boolean("Merge anyway")
    boxes_problem = fields.Char("Several Mailboxes", compute="_compute_boxes_problem")

    @api.model
    def default_get(self, fields_list):
        return with_selected_conversations(self.env, super().default_get(fields_list))

    @api.depends("conversation_ids")
    def _compute_target_id(self):
        for wizard in self:
            if wizard.target_id not in wizard.conversation_ids:
                wizard.target_id = wizard.conversation_ids._merge_default_target()

    @api.depends("conversation_ids")
    def _compute_customers_differ(self):
        for wizard in self:
            wizard.customers_differ = wizard.conversation_ids._merge_customers_differ()
            wizard.customer_names = ", ".join(wizard.conversation_ids._merge_customer_names())

    @api.depends("conversation_ids")
    def _compute_boxes_problem(self):
        for wizard in self:
            wizard.boxes_problem = wizard.conversation_ids._merge_boxes_problem()

    @api.constrains("target_id", "conversation_ids")
    def _check_target(self):
        for wizard in self.sudo():
            if wizard.target_id and wizard.target_id not in wizard.conversation_ids:
                raise ValidationError(self.env._("The conversation to keep must be one of those merged."))

    def action_merge(self):
        self.ensure_one()
        self.conversation_ids.action_merge(self.target_id.id, force=self.confirm_customers)
        return {"type": "ir.actions.act_window_close"}
