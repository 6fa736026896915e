import logging
import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import email_normalize

from ..services import mime

_logger = logging.getLogger(__name__)

#: Context that keeps bulk ingestion silent: no "created" log, no followers, no tracking.
QUIET_CONTEXT = {
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "tracking_disable": True,
}


class ComunikMailConversation(models.Model):
    """One email thread of one account, its emails being the chatter's mail.message records."""

    _name = "comunik.mail.conversation"
    _description = "Email Conversation"
    _inherit = ["mail.thread"]
    _order = "date_last desc, id desc"
    _rec_name = "subject"
    _mail_post_access = "read"

    account_id = fields.Many2one(
        "comunik.mail.account", "Email Account", required=True, index=True, ondelete="cascade", readonly=True
    )
    category = fields.Selection(related="account_id.category", store=True)
    subject = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", "Correspondent", index=True)
    email_from = fields.Char("From", readonly=True)
    date_first = fields.Datetime("Received On", readonly=True)
    date_last = fields.Datetime("Last Message", readonly=True, index=True)
    is_new = fields.Boolean("New", default=True, help="Shows the blue “New” badge until opened, read or assigned.")
    message_count = fields.Integer("Emails", compute="_compute_message_count")
    active = fields.Boolean(default=True)
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", readonly=True, ondelete="set null")
    label_ids = fields.Many2many("comunik.mail.label", string="Labels")

    def _compute_message_count(self):
        counts = dict(
            self.env["mail.message"]._read_group(
                [("model", "=", self._name), ("res_id", "in", self.ids), ("message_type", "=", "email")],
                ["res_id"],
                ["__count"],
            )
        )
        for conversation in self:
            conversation.message_count = counts.get(conversation.id, 0)

    # ------------------------------------------------------------------ ingestion

    @api.model
    def _ingest(self, account, folder, fetched):
        """Store a batch of fetched IMAP messages; return the number of new emails.

        Everything is done in bulk (one query per kind of record), and emails
        already stored for this account (same Message-ID) are skipped, so
        re-fetching a batch after a crash or a UIDVALIDITY change adds nothing.
        """
        parsed = []
        for item in fetched:
            message = mime.parse_message(item.raw, fallback_date=item.internal_date)
            parsed.append((item, message))
        existing = self._existing_message_ids(account, [message.message_id for _item, message in parsed])
        fresh, seen = [], set(existing)
        for item, message in parsed:
            if message.message_id not in seen:
                seen.add(message.message_id)
                fresh.append((item, message))
        if not fresh:
            return 0
        fresh.sort(key=lambda pair: (pair[1].date or pair[0].internal_date or fields.Datetime.now(), pair[0].uid))
        partners = self._find_or_create_partners(fresh)
        thread_of = self._existing_threads(account, fresh)
        conversations = self._create_conversations(account, fresh, thread_of, partners)
        self._create_messages(account, folder, fresh, thread_of, partners, conversations)
        self._apply_labels(fresh, thread_of)
        return len(fresh)

    @api.model
    def _apply_labels(self, fresh, thread_of):
        """Labels whose recipient addresses appear in To or Cc (never Bcc: not in the headers we get)."""
        Label = self.env["comunik.mail.label"]
        mapping = Label._labels_by_address()
        if not mapping:
            return
        per_conversation = {}
        for _item, message in fresh:
            label_ids = Label._match([email for _name, email in message.to + message.cc], mapping)
            if label_ids:
                per_conversation.setdefault(thread_of[message.message_id], set()).update(label_ids)
        by_labels = {}
        for conversation_id, label_ids in per_conversation.items():
            by_labels.setdefault(frozenset(label_ids), []).append(conversation_id)
        for label_ids, conversation_ids in by_labels.items():
            self.browse(conversation_ids).with_context(**QUIET_CONTEXT).write(
                {"label_ids": [(4, label_id) for label_id in sorted(label_ids)]}
            )

    @api.model
    def _existing_message_ids(self, account, message_ids):
        self.env.cr.execute(
            "SELECT message_id FROM mail_message WHERE comunik_account_id = %s AND message_id = ANY(%s)",
            [account.id, message_ids],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _find_or_create_partners(self, fresh):
        """Sender email -> partner, creating the missing ones in one call."""
        names = {}
        for _item, message in fresh:
            email = email_normalize(message.from_email) if message.from_email else False
            if email and email not in names:
                names[email] = message.from_name or email
        if not names:
            return {}
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        partners = {}
        for partner in Partner.search([("email_normalized", "in", list(names))], order="id"):
            partners.setdefault(partner.email_normalized, partner)
        missing = [email for email in names if email not in partners]
        created = Partner.create([{"name": names[email], "email": email} for email in missing])
        partners.update(zip(missing, created, strict=True))
        return partners

    @api.model
    def _existing_threads(self, account, fresh):
        """Message-ID -> conversation id, for the ids this batch replies to."""
        references = set()
        for _item, message in fresh:
            references.update(message.references)
            if message.in_reply_to:
                references.add(message.in_reply_to)
        if not references:
            return {}
        self.env.cr.execute(
            """SELECT message_id, res_id FROM mail_message
                WHERE model = %s AND message_id = ANY(%s)
                  AND res_id IN (SELECT id FROM comunik_mail_conversation WHERE account_id = %s)""",
            [self._name, list(references), account.id],
        )
        return dict(self.env.cr.fetchall())

    @staticmethod
    def _parents(message):
        """Candidate parent Message-IDs, closest first."""
        candidates = [message.in_reply_to] if message.in_reply_to else []
        candidates += list(reversed(message.references))
        return candidates

    @api.model
    def _create_conversations(self, account, fresh, thread_of, partners):
        """Create one conversation per message that replies to nothing known.

        ``thread_of`` is completed in place with the batch's own Message-IDs, so a
        reply in the same batch as its original joins it.
        """
        to_create, owner_index = [], {}
        for _item, message in fresh:
            parent = next((p for p in self._parents(message) if p in thread_of or p in owner_index), None)
            if parent is None:
                owner_index[message.message_id] = len(to_create)
                to_create.append(message)
            elif parent in owner_index:
                owner_index[message.message_id] = owner_index[parent]
            else:
                thread_of[message.message_id] = thread_of[parent]
        conversations = self.with_context(**QUIET_CONTEXT).create(
            [
                {
                    "account_id": account.id,
                    "subject": message.subject or self.env._("(no subject)"),
                    "partner_id": partners.get(email_normalize(message.from_email) or "", self.env["res.partner"]).id,
                    "email_from": _format_from(message),
                    "date_first": message.date,
                    "date_last": message.date,
                }
                for message in to_create
            ]
        )
        for message_id, index in owner_index.items():
            thread_of[message_id] = conversations[index].id
        if account.create_lead and conversations:
            conversations._create_leads(to_create)
        return conversations

    def _create_leads(self, messages):
        """Option « Création d'un enregistrement de piste »: one lead per new conversation, never per reply."""
        leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(**QUIET_CONTEXT)
            .create(
                [
                    {
                        "name": conversation.subject,
                        "partner_id": conversation.partner_id.id,
                        "email_from": message.from_email or False,
                        "contact_name": message.from_name or False,
                        "description": message.body_text or False,
                    }
                    for conversation, message in zip(self, messages, strict=True)
                ]
            )
        )
        for conversation, lead in zip(self, leads, strict=True):
            conversation.lead_id = lead

    @api.model
    def _create_messages(self, account, folder, fresh, thread_of, partners, new_conversations):
        Attachment = self.env["ir.attachment"].sudo()
        attachment_vals, owners = [], []
        for index, (_item, message) in enumerate(fresh):
            for attachment in message.attachments:
                attachment_vals.append(
                    {
                        "name": attachment.filename,
                        "raw": attachment.content,
                        "mimetype": attachment.mimetype,
                        "res_model": self._name,
                        "res_id": thread_of[message.message_id],
                    }
                )
                owners.append((index, attachment.content_id))
        attachments = Attachment.create(attachment_vals) if attachment_vals else Attachment
        per_message = {}
        for (index, content_id), attachment in zip(owners, attachments, strict=True):
            per_message.setdefault(index, []).append((attachment, content_id))

        message_vals = []
        latest = {}
        unreadable = self.env._("This email could not be read: its original source is attached.")
        comment_subtype_id = self.env.ref("mail.mt_comment").id
        for index, (item, message) in enumerate(fresh):
            conversation_id = thread_of[message.message_id]
            linked = per_message.get(index, [])
            partner = partners.get(email_normalize(message.from_email) or "")
            message_vals.append(
                {
                    "model": self._name,
                    "res_id": conversation_id,
                    "message_type": "email",
                    "subtype_id": comment_subtype_id,
                    "message_id": message.message_id,
                    "subject": message.subject,
                    "email_from": _format_from(message),
                    "author_id": partner.id if partner else False,
                    "date": message.date or item.internal_date or fields.Datetime.now(),
                    "body": _body(message, linked, unreadable),
                    "attachment_ids": [(6, 0, [attachment.id for attachment, _cid in linked])],
                    "reply_to": message.reply_to or False,
                    "comunik_account_id": account.id,
                    "comunik_folder_id": folder.id,
                    "comunik_uid": item.uid,
                    "incoming_email_to": message.headers.get("to") or False,
                    "incoming_email_cc": message.headers.get("cc") or False,
                }
            )
            date = message_vals[-1]["date"]
            if conversation_id not in latest or latest[conversation_id] < date:
                latest[conversation_id] = date
            if message.warnings:
                _logger.info(
                    "Email %s of %s stored with warnings: %s", message.message_id, account.email, message.warnings
                )
        self.env["mail.message"].sudo().with_context(**QUIET_CONTEXT).create(message_vals)
        # Replies to existing conversations bring them back up and show them as new again.
        replied = self.browse(set(latest) - set(new_conversations.ids))
        for conversation in replied:
            if not conversation.date_last or conversation.date_last < latest[conversation.id]:
                conversation.date_last = latest[conversation.id]
        replied.is_new = True
        # A customer answer on a closed conversation reopens it (to its last assignee).
        replied.filtered(lambda c: c.state == "closed")._reopen()

    # ------------------------------------------------------------------ native gateway

    @api.private  # the mail gateway's entry point: its custom values would pick the account
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Mail routed here by Odoo's own incoming mail server lands in the account that owns it.

        Private (never callable over RPC): only the mail gateway, already trusted, runs it; the sudo
        below only finds the account of the gateway's own server.
        """
        values = dict(custom_values or {})
        server_id = self.env.context.get("default_fetchmail_server_id")
        if server_id and "account_id" not in values:
            account = self.env["comunik.mail.account"].sudo().search([("fetchmail_server_id", "=", server_id)], limit=1)
            values["account_id"] = account.id
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("email_from", msg_dict.get("email_from"))
        values.setdefault("date_first", msg_dict.get("date"))
        values.setdefault("date_last", msg_dict.get("date"))
        return super().message_new(msg_dict, custom_values=values)


def _format_from(message):
    if message.from_name and message.from_email:
        return f'"{message.from_name}" <{message.from_email}>'
    return message.from_email or message.from_name or ""


_CID = re.compile(r"""(["'])cid:([^"']+)\1""")


def _body(message, linked, unreadable):
    """HTML body with inline images pointing to their stored attachments, plus parsing warnings."""
    body = message.body_html or ""
    by_cid = {cid: attachment for attachment, cid in linked if cid}
    if by_cid and "cid:" in body:

        def replace(match):
            attachment = by_cid.get(match.group(2))
            if not attachment:
                return match.group(0)
            return f"{match.group(1)}/web/image/{attachment.id}{match.group(1)}"

        body = _CID.sub(replace, body)
    if "unparseable" in message.warnings:
        body += str(Markup('<p class="text-warning">%s</p>') % unreadable)
    return body
