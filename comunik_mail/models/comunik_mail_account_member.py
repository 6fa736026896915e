from odoo import api, fields, models


class ComunikMailAccountMember(models.Model):
    """A member's capacity in one shared box (« Capacités des membres » on the box form, Email admins).

    Members without a line take an unlimited share. A line of a user who is not (or no longer) a member of
    the box's departments is simply never used: eligibility comes from the departments alone.
    """

    _name = "comunik.mail.account.member"
    _description = "Mailbox Member Capacity"
    _order = "account_id, user_id"

    account_id = fields.Many2one("comunik.mail.account", "Email Account", required=True, index=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", "Member", required=True, index=True, ondelete="cascade")
    capacity = fields.Integer(
        "Maximum Open Emails",
        default=0,
        help="Open emails this member may hold in this mailbox before automatic assignment skips them "
        "(an urgent email counts twice). 0: unlimited. Dispatchers may still assign above it by hand.",
    )
    load = fields.Integer(
        "Current Load", compute="_compute_load", help="Weight of the member's open emails in this mailbox."
    )
    capacity_use = fields.Float("Capacity Used (%)", compute="_compute_load")

    _account_user_uniq = models.Constraint(
        "UNIQUE (account_id, user_id)", "This member already has a capacity in this mailbox."
    )
    _capacity_positive = models.Constraint("CHECK (capacity >= 0)", "A capacity cannot be negative.")

    @api.depends("account_id", "user_id", "capacity")
    def _compute_load(self):
        # Lines edited in the form (onchange) are new records: their stored box and user are their _origin.
        loads = self.env["comunik.mail.assignment"]._loads(self.account_id._origin)
        for line in self:
            line.load = loads.get((line.account_id._origin.id, line.user_id._origin.id), 0)
            line.capacity_use = 100.0 * line.load / line.capacity if line.capacity else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        self.env["comunik.mail.assignment"]._assign_backlog(lines.account_id)
        return lines

    def write(self, vals):
        res = super().write(vals)
        if "capacity" in vals or "user_id" in vals:
            self.env["comunik.mail.assignment"]._assign_backlog(self.account_id)
        return res
