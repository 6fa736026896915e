"""Merge and split conversations (« Fusionner », « Annuler la fusion », « Séparer »).

A merge moves the emails (and the replies sent from Odoo, with their attachments) of conversations of
one box into one of them, archives the others (``active`` False, ``merged_into_id`` set) and logs in
``comunik.mail.merge`` which emails came from where, so that « Annuler la fusion » restores each one
with exactly its own emails for 30 days. Replies to any Message-ID of a merged-away conversation thread
into the target: the ingestion finds the stored messages where they now are, and anything left behind
on an archived conversation is redirected along ``merged_into_id`` (``_merge_redirects``).
A split moves one email into a new conversation of the same box, *Non assigné*.

Every public method checks the caller's rights on each conversation involved (read, then
``_check_can_work``: assignee, dispatchers, Email admins) before any sudo.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

from ..services import merge
from .comunik_mail_ingestion import QUIET_CONTEXT


class ComunikMailConversation(models.Model):
    # One file per feature of the conversation (snooze, merge, collision), as Odoo splits mail.thread.
    _inherit = "comunik.mail.conversation"  # pylint: disable=consider-merging-classes-inherited

    merged_into_id = fields.Many2one(
        "comunik.mail.conversation",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="This conversation was merged into that one: its emails are there.",
    )
    merged_ids = fields.One2many(
        "comunik.mail.conversation",
        "merged_into_id",
        "Merged Conversations",
        readonly=True,
        context={"active_test": False},
    )
    can_unmerge = fields.Boolean("Can Undo the Merge", compute="_compute_can_unmerge")
    comunik_email_ids = fields.Many2many("mail.message", string="Emails List", compute="_compute_comunik_email_ids")

    @api.depends_context("comunik_now")
    def _compute_can_unmerge(self):
        logs = self.env["comunik.mail.merge"]._undoable(self, self._now())
        involved = set(logs.target_id.ids) | set(logs.source_id.ids)
        for conversation in self:
            conversation.can_unmerge = conversation.id in involved

    def _compute_comunik_email_ids(self):
        emails = self.env["mail.message"].search(
            [("model", "=", self._name), ("res_id", "in", self.ids), ("message_type", "=", "email")],
            order="date desc, id desc",
        )
        for conversation in self:
            conversation.comunik_email_ids = emails.filtered(lambda m, c=conversation: m.res_id == c.id)

    # ------------------------------------------------------------------ merge

    def action_merge(self, target_id, force=False):
        """Merge these conversations and ``target_id`` (a conversation id) into the target.

        :param force: merge even when the customers differ (the wizard asks for this confirmation)
        """
        target = target_id if isinstance(target_id, models.BaseModel) else self.browse(target_id or ())
        conversations = self | target
        conversations.check_access("read")  # ids of boxes the caller cannot see: refused here
        conversations._check_can_work()
        if len(target) != 1:
            raise UserError(self.env._("Choose the conversation to keep."))
        conversations._check_mergeable()
        if not force and conversations._merge_customers_differ():
            raise UserError(
                self.env._(
                    "These conversations are not from the same customer (%s): confirm to merge them anyway.",
                    ", ".join(conversations._merge_customer_names()),
                )
            )
        target.sudo()._merge_from((conversations - target).sudo())
        # The archived ones no longer count in their assignees' load: an automatic box may give out waiting emails.
        self.env["comunik.mail.assignment"]._assign_backlog(target.account_id)
        return True

    def _check_mergeable(self):
        if len(self) < 2:
            raise UserError(self.env._("Select at least two conversations to merge."))
        if self._merge_boxes_problem():
            raise UserError(self._merge_boxes_problem())
        archived = self.filtered(lambda c: not c.active)
        if archived:
            raise UserError(
                self.env._("Archived or already merged conversations cannot be merged: %s.", archived[0].subject)
            )

    def _merge_candidates(self):
        # By their database ids, also in the wizard's onchanges (where the records are new ones of the same).
        return [
            merge.Candidate(
                c._origin.id or 0,
                c.date_first,
                merge.customer_key(c.partner_id._origin.id, email_normalize(c.email_from or "") or ""),
            )
            for c in self
        ]

    def _merge_boxes_problem(self):
        """The French refusal when these conversations are of several boxes (shown by the wizard too), else False."""
        if len(self.account_id) <= 1:
            return False
        return self.env._(
            "Only conversations of one mailbox can be merged (here: %s).",
            ", ".join(self.account_id.sudo().mapped("email")),
        )

    def _merge_customers_differ(self):
        return merge.customers_differ(self._merge_candidates())

    def _merge_customer_names(self):
        names = []
        for conversation in self:
            name = conversation.partner_id.sudo().display_name or conversation.email_from
            if name and name not in names:
                names.append(name)
        return names

    def _merge_default_target(self):
        """The oldest of these conversations (as a record of ``self``, new records included)."""
        chosen = merge.default_target(self._merge_candidates())
        return self.filtered(lambda c: chosen and c._origin.id == chosen)[:1]

    def _merge_messages(self):
        """What moves with a conversation: its emails and the replies sent from it (not its notes and logs)."""
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "in", self.ids),
                    "|",
                    ("message_type", "=", "email"),
                    "&",
                    ("message_type", "=", "comment"),
                    ("subtype_id.internal", "=", False),
                ]
            )
        )

    def _move_messages(self, messages, source):
        """Move ``messages`` (and their attachments) from ``source`` to this conversation (superuser)."""
        self.ensure_one()
        attachments = messages.attachment_ids.filtered(lambda a: a.res_model == self._name and a.res_id == source.id)
        messages.write({"res_id": self.id})
        attachments.write({"res_id": self.id})
        (self | source).invalidate_recordset(["message_count", "comunik_email_ids", "message_ids"])

    def _merge_from(self, sources):
        """Superuser part of the merge: self is the target, ``sources`` the conversations merged away."""
        self.ensure_one()
        now = self._now()
        saved_first_response = self.first_response_date
        first_responses = [d for d in (self | sources).mapped("first_response_date") if d]
        for source in sources:
            messages = source._merge_messages()
            self._move_messages(messages, source)
            self.env["comunik.mail.merge"].sudo().create(
                {
                    "source_id": source.id,
                    "target_id": self.id,
                    "user_id": self.env.uid,
                    "merge_date": now,
                    "message_ids": [(6, 0, messages.ids)],
                    "target_first_response_date": saved_first_response,
                }
            )
            source.write({"active": False, "merged_into_id": self.id})
            source._message_log(body=self.env._("Merged into %s", self._get_html_link()))
            self._message_log(body=self.env._("%s merged here", source._get_html_link()))
        values = self._dates_from_emails()
        if first_responses:
            values["first_response_date"] = min(first_responses)
        self.write(values)

    def _dates_from_emails(self):
        """date_first / date_last / sender_date of this conversation from the emails it now holds."""
        emails = self._emails()
        first, last = merge.merged_dates(emails.mapped("date"))
        if not first:
            return {}
        return {"date_first": first, "date_last": last, "sender_date": emails[0].comunik_sender_date or False}

    # ------------------------------------------------------------------ unmerge

    def action_unmerge(self):
        """« Annuler la fusion », for 30 days: on a target, every merge into it; on a merged-away
        conversation, its own merge. Each one comes back with exactly the emails it brought."""
        self.check_access("read")
        logs = self.env["comunik.mail.merge"]._undoable(self, self._now())
        involved = self.browse((logs.source_id | logs.target_id).ids)
        involved.check_access("read")
        (self | involved)._check_can_work()
        if not logs or self - involved:
            raise UserError(
                self.env._("There is no merge to undo: a merge can be undone for %s days.", merge.UNMERGE_DAYS)
            )
        blocked = logs.filtered(lambda log: not log.target_id.active)
        if blocked:
            raise UserError(
                self.env._(
                    "First undo the merge of %(target)s into %(other)s.",
                    target=blocked[0].target_id.subject,
                    other=blocked[0].target_id.merged_into_id.subject,
                )
            )
        self.sudo()._unmerge(logs.sudo())
        return True

    def _unmerge(self, logs):
        now = self._now()
        for log in logs:
            source, target = log.source_id, log.target_id
            messages = log.message_ids.filtered(lambda m, t=target: m.model == self._name and m.res_id == t.id)
            source._move_messages(messages, target)
            source.write({"active": True, "merged_into_id": False})
            log.write({"unmerge_date": now, "unmerge_user_id": self.env.uid})
            first_response = merge.restored_first_response(
                log.target_first_response_date, target.first_response_date, log.merge_date
            )
            target.write({**target._dates_from_emails(), "first_response_date": first_response or False})
            target._message_log(body=self.env._("Merge of %s undone", source._get_html_link()))
            source._message_log(body=self.env._("Merge into %s undone", target._get_html_link()))

    # ------------------------------------------------------------------ threading

    @api.model
    def _merge_redirects(self, conversation_ids):
        """{id: conversation now holding its thread} for the given ids that were merged away (chains followed)."""
        if not conversation_ids:
            return {}
        self.flush_model(["merged_into_id", "active"])
        self.env.cr.execute(
            """WITH RECURSIVE chain(id, merged_into_id) AS (
                   SELECT id, merged_into_id FROM comunik_mail_conversation
                    WHERE id = ANY(%s) AND merged_into_id IS NOT NULL AND NOT active
                   UNION
                   SELECT c.id, c.merged_into_id FROM comunik_mail_conversation c
                     JOIN chain ON c.id = chain.merged_into_id
                    WHERE c.merged_into_id IS NOT NULL AND NOT c.active
               )
               SELECT id, merged_into_id FROM chain""",
            [list(conversation_ids)],
        )
        final = merge.final_targets(dict(self.env.cr.fetchall()))
        return {cid: final[cid] for cid in conversation_ids if cid in final}

    # ------------------------------------------------------------------ split

    def _split_message(self, message):
        """Superuser part of « Séparer »: ``message`` (an email of this conversation) starts a new one."""
        self.ensure_one()
        new = self.with_context(**QUIET_CONTEXT).create(
            {
                "account_id": self.account_id.id,
                "folder_id": (message.comunik_folder_id or self.folder_id).id,
                "subject": message.subject or self.subject,
                "partner_id": message.author_id.id,
                "email_from": message.email_from or False,
                "date_first": message.date,
                "date_last": message.date,
                "sender_date": message.comunik_sender_date or False,
                "state": "unassigned",
            }
        )
        new._move_messages(message, self)
        self.write(self._dates_from_emails())
        self._message_log(
            body=self.env._(
                "Email “%(subject)s” split into %(link)s", subject=message.subject or "", link=new._get_html_link()
            )
        )
        new._message_log(body=self.env._("Split from %s", self._get_html_link()))
        return new
