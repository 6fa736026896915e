from odoo import api, fields, models
from odoo.tools import SQL

#: Banner counters, in display order. Each key is also the name of the inbox's search filter a click
#: toggles, and ``show_<key>`` the checkbox that shows it.
COUNTERS = ["unassigned", "assigned", "assigned_closed", "in_progress", "to_process", "overdue", "new", "snoozed"]


class ComunikMailBannerConfig(models.Model):
    """Each user's choice of counters shown on top of the shared inboxes
    (guide: « Config de l'affichage des indicateurs sur bandeau »)."""

    _name = "comunik.mail.banner.config"
    _description = "Banner Counters"
    _rec_name = "user_id"

    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", default=lambda self: self.env.user, readonly=True
    )
    # The guide's example: non assignés, assignés, assignés clôturés and assignés en cours.
    show_unassigned = fields.Boolean("Unassigned emails", default=True)
    show_assigned = fields.Boolean("Assigned emails", default=True)
    show_assigned_closed = fields.Boolean("Assigned, closed", default=True)
    show_in_progress = fields.Boolean("Assigned, in progress", default=True)
    show_to_process = fields.Boolean("To process")
    show_overdue = fields.Boolean("Overdue")
    show_new = fields.Boolean("New emails")
    show_snoozed = fields.Boolean("Snoozed")

    _user_unique = models.Constraint("UNIQUE(user_id)", "Each user has one banner configuration.")

    def _has_field_access(self, field, operation):
        """Each configuration stays its user's: nobody hands theirs to someone else."""
        if operation == "write" and field.name == "user_id" and not self.env.su:
            return False
        return super()._has_field_access(field, operation)

    @api.model
    def _for_user(self):
        """The current user's configuration, created with the defaults on first use."""
        config = self.search([("user_id", "=", self.env.uid)], limit=1)
        return config or self.sudo().create({"user_id": self.env.uid}).sudo(False)

    @api.model
    def action_open_config(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Banner counters"),
            "res_model": self._name,
            "res_id": self._for_user().id,
            "view_mode": "form",
            "views": [(self.env.ref("comunik_mail.view_comunik_mail_banner_config_form").id, "form")],
            "target": "current",
        }

    @api.model
    def get_banner(self):
        """Counters chosen by the user, counted on the shared inboxes they may see (their record rules
        apply: nobody counts mail they cannot open). One aggregate query.

        Like the inbox, every counter but « En attente » leaves the snoozed conversations out: a click on a
        counter shows the conversations it counts."""
        config = self._for_user()
        chosen = [key for key in COUNTERS if config[f"show_{key}"]]
        Conversation = self.env["comunik.mail.conversation"]
        if not chosen or not Conversation.has_access("read"):
            return {"counters": []}
        if not self.env["comunik.mail.account"].search_count([("category", "=", "shared")], limit=1):
            return {"counters": []}  # no shared inbox to sum up
        query = Conversation._search([("category", "=", "shared")])
        column = {
            name: Conversation._field_to_sql(Conversation._table, name, query)
            for name in ("state", "user_id", "deadline", "is_new", "snooze_until")
        }
        conditions = {
            "unassigned": SQL("%s = 'unassigned'", column["state"]),
            "assigned": SQL("%s = 'assigned'", column["state"]),
            "assigned_closed": SQL("%s = 'closed' AND %s IS NOT NULL", column["state"], column["user_id"]),
            "in_progress": SQL("%s = 'in_progress'", column["state"]),
            "to_process": SQL("%s = 'to_process'", column["state"]),
            "overdue": SQL("%s != 'closed' AND %s < %s", column["state"], column["deadline"], Conversation._now()),
            "new": SQL("%s", column["is_new"]),
        }
        awake = SQL("%s IS NULL", column["snooze_until"])
        conditions = {key: SQL("(%s) AND %s", condition, awake) for key, condition in conditions.items()}
        conditions["snoozed"] = SQL("%s IS NOT NULL", column["snooze_until"])
        columns = [SQL("COUNT(*) FILTER (WHERE %s)", conditions[key]) for key in chosen]
        row = self.env.execute_query(query.select(*columns))[0]
        labels = self._counter_labels()
        return {
            "counters": [
                {"key": key, "label": labels[key], "count": count} for key, count in zip(chosen, row, strict=True)
            ]
        }

    def _counter_labels(self):
        labels = {}
        labels["unassigned"] = self.env._("Unassigned emails")
        labels["assigned"] = self.env._("Assigned emails")
        labels["assigned_closed"] = self.env._("Assigned, closed")
        labels["in_progress"] = self.env._("Assigned, in progress")
        labels["to_process"] = self.env._("To process")
        labels["overdue"] = self.env._("Overdue")
        labels["new"] = self.env._("New emails")
        labels["snoozed"] = self.env._("Snoozed")
        return labels
