from odoo import fields, models


class HrDepartment(models.Model):
    _inherit = "hr.department"

    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        "Working Hours",
        help="Response deadlines of the department's shared mailboxes are counted in these working hours.",
    )
