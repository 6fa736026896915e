from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    comunik_conversation_ids = fields.One2many(
        "comunik.mail.conversation", "lead_id", "Email Conversations", readonly=True
    )
    comunik_conversation_count = fields.Integer(compute="_compute_comunik_conversation_count")

    def _compute_comunik_conversation_count(self):
        counts = dict(
            self.env["comunik.mail.conversation"]._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
        )
        for lead in self:
            lead.comunik_conversation_count = counts.get(lead, 0)

    def action_open_comunik_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("comunik_mail.action_comunik_mail_conversation")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {}
        return action
