from odoo import api, fields, models
from odoo.tools import format_datetime

from ..services import snooze
from .comunik_mail_assign_wizard import with_selected_conversations

CHOICES = [("tomorrow", "Tomorrow 9:00"), ("next_monday", "Next Monday 9:00"), ("custom", "Date and time…")]


class ComunikMailSnoozeWizard(models.TransientModel):
    """« Mettre en attente jusqu'au… » one or many conversations.

    The end is chosen on the user's wall clock (``res.users.tz``, UTC when unset): a quick choice or a date and
    an hour, converted to UTC here on the server (services/snooze), so that the browser's own timezone plays no
    part. The conversations' ``action_snooze`` checks the rights and the date again.
    """

    _name = "comunik.mail.snooze.wizard"
    _description = "Snooze Emails"

    conversation_ids = fields.Many2many("comunik.mail.conversation", string="Emails", required=True)
    choice = fields.Selection(CHOICES, "Until", default="tomorrow", required=True)
    custom_date = fields.Date("Date")
    custom_hour = fields.Float("Hour", default=snooze.PRESET_HOUR)
    wake_on_reply = fields.Boolean("Wake up if the customer replies", default=True)
    snooze_until = fields.Datetime("Snoozed Until", compute="_compute_snooze_until")
    snooze_until_text = fields.Char("Back in the inbox", compute="_compute_snooze_until")

    @api.model
    def default_get(self, fields_list):
        return with_selected_conversations(self.env, super().default_get(fields_list))

    def _tz(self):
        return self.env.user.tz or self.env.context.get("tz") or "UTC"

    @api.depends("choice", "custom_date", "custom_hour")
    @api.depends_context("comunik_now", "uid")
    def _compute_snooze_until(self):
        now = self.env["comunik.mail.conversation"]._now()
        tz = self._tz()
        for wizard in self:
            until = False
            try:
                if wizard.choice == "custom":
                    if wizard.custom_date:
                        until = snooze.local_to_utc(wizard.custom_date, wizard.custom_hour, tz)
                elif wizard.choice:
                    until = snooze.preset(wizard.choice, now, tz)
            except ValueError:  # an hour outside 0-24
                until = False
            wizard.snooze_until = until
            wizard.snooze_until_text = (
                f"{format_datetime(self.env, until, tz=tz, dt_format='EEEE d MMMM y HH:mm')} ({tz})" if until else ""
            )

    def action_apply(self):
        self.ensure_one()
        self.conversation_ids.action_snooze(self.snooze_until, self.wake_on_reply)
        return {"type": "ir.actions.act_window_close"}
