from odoo import fields, models, tools
from odoo.tools import SQL

from .comunik_mail_conversation import ASSIGN_METHODS, STATES

#: Aggregators this model adds to Odoo's (``field:median`` in ``_read_group`` and in the web client's calls).
MEDIAN = "median"


class ComunikMailStatistics(models.Model):
    """Statistics of the shared mailboxes (guide: « Statistiques des boîtes partagées »), read-only.

    One row per conversation of a *shared* account (personal boxes never appear; archived
    conversations are left out), built by a SQL view over ``comunik_mail_conversation``:

    * ``date`` is when the conversation was received (``date_first``): the period filters apply to it;
    * ``department_id`` is the department of the assignee's employee (their current HR version; when a
      user has several employees, one in a department of the account wins, then the oldest). Unassigned
      conversations, and assignees without a department, count for the account's department, taking
      the oldest one (lowest id) when the account has several: a stable choice that renaming a
      department does not change;
    * ``first_response_hours`` runs from reception to the first reply sent to the customer, and
      ``resolution_hours`` from reception to closing; both are NULL while there is no reply / the
      conversation is not closed, so they are left out of the averages and medians, but the
      conversation still counts in the volumes;
    * ``is_overdue`` (« Hors délai ») means the response deadline was missed: closed after it, or
      still open after it (including conversations closed late, unlike the inbox's live “Overdue”
      filter which only shows open ones). ``overdue_rate`` is the share of conversations concerned
      (those without a deadline count as on time).

    The average and median measures are separate fields reading the same values, since a field has
    one aggregator for the web client: the pivot and graph views ask ``first_response_median:median``,
    which :meth:`_read_group_select` turns into PostgreSQL's ``PERCENTILE_CONT(0.5)``.
    """

    _name = "comunik.mail.statistics"
    _description = "Shared Mailbox Statistics"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "conversation_id"
    _depends = {
        "comunik.mail.conversation": [
            "account_id",
            "active",
            "date_first",
            "state",
            "user_id",
            "close_date",
            "deadline",
            "first_response_date",
            "first_response_hours",
            "assign_date",
            "assign_method",
            "priority",
        ],
        "comunik.mail.account": ["category", "department_ids"],
        "hr.employee": ["user_id", "active", "current_version_id"],
        "hr.version": ["department_id"],
    }

    conversation_id = fields.Many2one("comunik.mail.conversation", readonly=True)
    date = fields.Datetime("Received On", readonly=True)
    account_id = fields.Many2one("comunik.mail.account", "Email Account", readonly=True)
    department_id = fields.Many2one("hr.department", readonly=True)
    user_id = fields.Many2one("res.users", "Assigned To", readonly=True)
    state = fields.Selection(STATES, "Status", readonly=True)
    deadline = fields.Datetime(readonly=True)
    close_date = fields.Datetime("Closed On", readonly=True)
    is_overdue = fields.Boolean(
        "Overdue",
        readonly=True,
        help="The response deadline was missed: the email was closed after it, or is still open past it.",
    )
    first_response_hours = fields.Float(
        "First Response Time (hours)",
        readonly=True,
        aggregator=None,
        help="From reception to the first reply sent to the customer; empty while nobody has replied.",
    )
    resolution_hours = fields.Float(
        "Resolution Time (hours)",
        readonly=True,
        aggregator=None,
        help="From reception to closing; empty while the email is not closed.",
    )
    # Measures (pivot, graph): the same values as above with their aggregator.
    first_response_avg = fields.Float(
        "Average First Response Time (hours)",
        readonly=True,
        aggregator="avg",
        help="Emails not answered yet are left out.",
    )
    first_response_median = fields.Float(
        "Median First Response Time (hours)",
        readonly=True,
        aggregator=MEDIAN,
        help="Emails not answered yet are left out.",
    )
    resolution_avg = fields.Float(
        "Average Resolution Time (hours)",
        readonly=True,
        aggregator="avg",
        help="Emails not closed yet are left out.",
    )
    resolution_median = fields.Float(
        "Median Resolution Time (hours)",
        readonly=True,
        aggregator=MEDIAN,
        help="Emails not closed yet are left out.",
    )
    overdue_count = fields.Integer("Overdue Emails", readonly=True, aggregator="sum")
    # Assignment: how long emails waited for an assignee, how they got one, and the members' open load
    # (grouped by « Assigné à », the load each member carries; compare with their capacity on the box).
    assign_method = fields.Selection(ASSIGN_METHODS, "Assigned By", readonly=True)
    assign_hours = fields.Float(
        "Time to Assignment (hours)",
        readonly=True,
        aggregator=None,
        help="From reception to the (last) assignment; empty while unassigned.",
    )
    assign_avg = fields.Float(
        "Average Time to Assignment (hours)", readonly=True, aggregator="avg", help="Unassigned emails are left out."
    )
    assign_median = fields.Float(
        "Median Time to Assignment (hours)", readonly=True, aggregator=MEDIAN, help="Unassigned emails are left out."
    )
    open_load = fields.Integer(
        readonly=True,
        aggregator="sum",
        help="Weight of the open assigned emails (an urgent one counts twice), as automatic assignment counts it.",
    )
    overdue_rate = fields.Float(
        "Overdue Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the emails whose response deadline was missed.",
    )

    # ------------------------------------------------------------------ aggregation

    def _read_group_select(self, aggregate_spec, query):
        """Add the ``median`` aggregator (NULLs are ignored, as by AVG)."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func != MEDIAN:
            return super()._read_group_select(aggregate_spec, query)
        field = self._fields.get(fname)
        if not field or not field.store or field.type not in ("integer", "float", "monetary"):
            raise ValueError(f"Invalid aggregate {aggregate_spec!r}: median needs a stored numeric field.")
        return SQL(
            "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %s)",
            self._field_to_sql(self._table, fname, query),
        )

    # ------------------------------------------------------------------ view

    def _query(self):
        Account = self.env["comunik.mail.account"]
        departments = Account._fields["department_ids"]
        rel = SQL.identifier(departments.relation)
        rel_account = SQL.identifier(departments.column1)
        rel_department = SQL.identifier(departments.column2)
        return SQL(
            """
            WITH account_department AS (
                SELECT r.%(rel_account)s AS account_id, MIN(r.%(rel_department)s) AS department_id
                  FROM %(rel)s r
                 GROUP BY r.%(rel_account)s
            ), assignee_department AS (
                -- Per (user, account): the user's current department, one of the account's first, then the
                -- oldest employee. A few rows (users x accounts), hash-joined: no subquery per conversation.
                SELECT DISTINCT ON (e.user_id, acc.id)
                       e.user_id, acc.id AS account_id, v.department_id
                  FROM hr_employee e
                  JOIN hr_version v ON v.id = e.current_version_id
                 CROSS JOIN comunik_mail_account acc
                 WHERE e.user_id IS NOT NULL AND e.active AND v.department_id IS NOT NULL
                   AND acc.category = 'shared'
                 ORDER BY e.user_id, acc.id,
                          EXISTS (
                              SELECT 1 FROM %(rel)s r
                               WHERE r.%(rel_account)s = acc.id AND r.%(rel_department)s = v.department_id
                          ) DESC,
                          e.id
            ), base AS (
                SELECT
                    c.id,
                    c.date_first AS date,
                    c.account_id,
                    COALESCE(assignee.department_id, account_department.department_id) AS department_id,
                    c.user_id,
                    c.state,
                    c.deadline,
                    CASE WHEN c.state = 'closed' THEN c.close_date END AS close_date,
                    CASE WHEN c.first_response_date IS NOT NULL AND c.date_first IS NOT NULL
                         THEN c.first_response_hours END AS first_response_hours,
                    CASE WHEN c.state = 'closed' AND c.close_date IS NOT NULL AND c.date_first IS NOT NULL
                         THEN GREATEST(EXTRACT(EPOCH FROM c.close_date - c.date_first), 0)::float8 / 3600
                    END AS resolution_hours,
                    c.assign_method,
                    CASE WHEN c.assign_date IS NOT NULL AND c.date_first IS NOT NULL AND c.user_id IS NOT NULL
                         THEN GREATEST(EXTRACT(EPOCH FROM c.assign_date - c.date_first), 0)::float8 / 3600
                    END AS assign_hours,
                    CASE WHEN c.user_id IS NOT NULL AND c.state != 'closed'
                         THEN CASE WHEN c.priority = '2' THEN 2 ELSE 1 END ELSE 0 END AS open_load,
                    COALESCE(
                        c.deadline < COALESCE(
                            CASE WHEN c.state = 'closed' THEN c.close_date END,
                            timezone('UTC', now())
                        ),
                        FALSE
                    ) AS is_overdue
                FROM comunik_mail_conversation c
                JOIN comunik_mail_account a ON a.id = c.account_id
                LEFT JOIN assignee_department assignee
                       ON assignee.user_id = c.user_id AND assignee.account_id = c.account_id
                LEFT JOIN account_department ON account_department.account_id = c.account_id
                WHERE a.category = 'shared' AND c.active
            )
            SELECT
                id,
                id AS conversation_id,
                date,
                account_id,
                department_id,
                user_id,
                state,
                deadline,
                close_date,
                is_overdue,
                first_response_hours,
                first_response_hours AS first_response_avg,
                first_response_hours AS first_response_median,
                resolution_hours,
                resolution_hours AS resolution_avg,
                resolution_hours AS resolution_median,
                CASE WHEN is_overdue THEN 1 ELSE 0 END AS overdue_count,
                CASE WHEN is_overdue THEN 100.0 ELSE 0.0 END::float8 AS overdue_rate,
                assign_method,
                assign_hours,
                assign_hours AS assign_avg,
                assign_hours AS assign_median,
                open_load
            FROM base
            """,
            rel=rel,
            rel_account=rel_account,
            rel_department=rel_department,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
