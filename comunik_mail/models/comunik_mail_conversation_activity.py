from odoo import api, fields, models

from ..services import collision

ACTIVITIES = [("viewing", "Viewing"), ("replying", "Replying")]


class ComunikMailConversationActivity(models.Model):
    """Who is viewing or replying to a conversation right now (collision detection).

    One row per user and conversation, refreshed by the web client's heartbeat and true for
    ``services.collision.ACTIVITY_TTL`` seconds after it. Written only by
    ``comunik.mail.conversation.comunik_set_activity`` (sudo, after checking the caller may read the
    conversation); readers of a box read those of its conversations (record rules).
    """

    _name = "comunik.mail.conversation.activity"
    _description = "Conversation Viewer"
    _order = "date desc, id desc"

    conversation_id = fields.Many2one(
        "comunik.mail.conversation", required=True, index=True, ondelete="cascade", readonly=True
    )
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", readonly=True)
    activity = fields.Selection(ACTIVITIES, required=True, readonly=True)
    date = fields.Datetime("Last Heartbeat", required=True, readonly=True, default=fields.Datetime.now)

    _conversation_user_uniq = models.Constraint(
        "UNIQUE(conversation_id, user_id)", "One activity per user and conversation."
    )

    def _set(self, conversations, user, activity):
        """Record ``activity`` of ``user`` on ``conversations`` (``none`` removes it), as one statement
        per conversation that two heartbeats of two tabs cannot make fail."""
        self.env.flush_all()
        cr = self.env.cr
        for conversation in conversations:
            if activity == "none":
                cr.execute(
                    "DELETE FROM comunik_mail_conversation_activity WHERE conversation_id = %s AND user_id = %s",
                    (conversation.id, user.id),
                )
                continue
            cr.execute(
                """
                INSERT INTO comunik_mail_conversation_activity
                    (conversation_id, user_id, activity, date, create_uid, create_date, write_uid, write_date)
                VALUES (%(conversation)s, %(user)s, %(activity)s, %(now)s, %(user)s, %(now)s, %(user)s, %(now)s)
                ON CONFLICT (conversation_id, user_id)
                DO UPDATE SET activity = EXCLUDED.activity, date = EXCLUDED.date,
                              write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                """,
                {"conversation": conversation.id, "user": user.id, "activity": activity, "now": self._now()},
            )
        self.invalidate_model()

    def _now(self):
        return self.env.context.get("comunik_now") or fields.Datetime.now()

    def _fresh_by_conversation(self, conversation_ids):
        """{conversation id: [{user_id, name, activity, expires_in}]} of the announcements still true."""
        now = self._now()
        rows = self.search(
            [("conversation_id", "in", list(conversation_ids)), ("date", ">", collision.stale_before(now))],
            order="date, id",
        )
        result = {}
        for row in rows:
            if not collision.is_fresh(row.date, now):
                continue
            result.setdefault(row.conversation_id.id, []).append(
                {
                    "user_id": row.user_id.id,
                    "name": row.user_id.name,
                    "activity": row.activity,
                    "expires_in": collision.expires_in(row.date, now),
                }
            )
        return result

    @api.autovacuum
    def _gc_stale(self):
        """Stale announcements are ignored as soon as they expire; this only keeps the table small."""
        self.sudo().search([("date", "<", collision.stale_before(self._now(), ttl=3600))]).unlink()
