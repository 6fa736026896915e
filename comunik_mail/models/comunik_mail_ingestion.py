"""The ingestion pipeline: one fetched IMAP batch in, conversations and emails out.

Read ``_ingest`` top to bottom: parse -> dedupe -> thread -> store (partners, conversations,
emails, attachments) -> labels / leads / reopen -> assign (``comunik.mail.assignment``). Emails of the
box's Sent folder are the box's own answers, sent from Outlook, a phone or a webmail: they go into
their conversation as outgoing emails, count as its first response, and never duplicate what Odoo
sent itself (same Message-ID); they get no label, no lead, reopen nothing and are never assigned.
Every decision comes from the ORM-free services (``mime``, ``dates``, ``dedupe``, ``thread_plan``,
``limits``, ``assignment``); this model only runs the queries, one per kind of record and batch.

Isolation: a batch is stored in a savepoint. When it fails, it is split in two and each half is
tried again (bisection), down to the single email that fails. That email is stored *degraded*
(headers that could be read, raw source attached, « reçu avec erreurs »); when even that fails, it
goes to the box's quarantine (``comunik.mail.quarantine``). Either way the sync moves past it.
"""

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import email_normalize

from ..services import dates, dedupe, limits, mime, thread_plan

_logger = logging.getLogger(__name__)

#: Context that keeps bulk ingestion silent: no "created" log, no followers, no tracking.
QUIET_CONTEXT = {
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "tracking_disable": True,
}
#: Longest failure reason kept on a degraded email or a quarantine row.
MAX_REASON = 2000
CONVERSATION = "comunik.mail.conversation"


@dataclass
class Email:
    """One fetched email on its way through the pipeline."""

    item: object  # imap_sync.FetchedMessage
    parsed: mime.ParsedMessage
    key: str
    digest: str
    date: datetime  # receive date: orders the inbox, starts deadlines
    sender_date: datetime | None  # the sender's Date:, when sane (shown)

    @classmethod
    def of(cls, item, parsed, now):
        """The pure decisions about one email: its storage key, content digest and dates."""
        return cls(
            item=item,
            parsed=parsed,
            key=dedupe.dedupe_key(parsed.message_id, item.raw),
            digest=_digest(item),
            date=dates.receive_date(item.internal_date, parsed.header_date, now),
            sender_date=dates.clamp_header_date(parsed.header_date, now),
        )

    # thread_plan.ThreadInput protocol
    @property
    def in_reply_to(self):
        return self.parsed.in_reply_to

    @property
    def references(self):
        return self.parsed.references


@dataclass
class IngestResult:
    """What happened to a batch: emails stored (normally or degraded) and UIDs quarantined."""

    new: int = 0
    degraded: int = 0
    quarantined: list = field(default_factory=list)

    def __iadd__(self, other):
        self.new += other.new
        self.degraded += other.degraded
        self.quarantined += other.quarantined
        return self


class ComunikMailIngestion(models.AbstractModel):
    _name = "comunik.mail.ingestion"
    _description = "Email Ingestion Pipeline"

    # ------------------------------------------------------------------ entry point

    @api.model
    def _ingest(self, account, folder, fetched, uidvalidity=None):
        """Store a batch of ``imap_sync.FetchedMessage``; never raises for a bad email.

        :return: IngestResult (``new`` counts emails stored, degraded ones included)
        """
        items = list(fetched)
        if not items:
            return IngestResult()
        try:
            with self.env.cr.savepoint():
                return IngestResult(new=self._ingest_batch(account, folder, items))
        except Exception as exc:  # noqa: BLE001 - find the culprit instead of blocking the box
            if _is_transient(exc):
                raise  # not this batch's fault (lock, serialization, lost connection): the next sync retries it
            if len(items) == 1:
                return self._ingest_degraded(account, folder, items[0], exc, uidvalidity)
            _logger.info("Batch of %d emails of %s failed (%s): splitting it", len(items), account.email, exc)
            middle = len(items) // 2
            result = self._ingest(account, folder, items[:middle], uidvalidity)
            result += self._ingest(account, folder, items[middle:], uidvalidity)
            return result

    @api.model
    def _ingest_batch(self, account, folder, items):
        now = fields.Datetime.now()
        outgoing = folder.is_sent  # the box's own answers, sent from other clients
        # 1. parse (never raises)
        emails = [self._parse(item, now) for item in items]
        # 2. dedupe: skip what this account already stored or sent from Odoo, keep reused Message-IDs as variants
        emails = self._dedupe(account, emails)
        if not emails:
            return 0
        emails.sort(key=lambda email: (email.date, email.item.uid))
        # 3. thread
        plan = thread_plan.plan_threads(emails, self._known_threads(account, emails))
        # 4. store
        partners = self._partners(emails, outgoing)
        conversations = self._create_conversations(account, folder, emails, plan, partners, outgoing)
        conversation_ids = plan.conversation_ids(dict(zip(plan.roots, conversations.ids, strict=True)))
        self._create_messages(account, folder, emails, conversation_ids, partners, outgoing=outgoing)
        if outgoing:
            # 5. answers: « Dernier message » and the first response, nothing reopened
            self._record_answers(emails, conversation_ids)
        else:
            self._update_existing(plan.existing_dates)
            # 5. labels, leads
            self._apply_labels(emails, conversation_ids)
            if account.create_lead and conversations:
                conversations._create_leads([emails[root].parsed for root in plan.roots])
            # 6. assign: the box's automatic mode gives the new emails (and any older backlog) to its members
            if conversations:
                self.env["comunik.mail.assignment"]._assign_backlog(account)
        self.env.flush_all()  # inside the savepoint: a database error is this batch's, not the commit's
        return len(emails)

    # ------------------------------------------------------------------ 1. parse

    @api.model
    def _parse(self, item, now):
        if item.truncated:
            parsed = mime.headers_only(item.raw, item.internal_date, now=now)
        else:
            parsed = mime.parse_message(
                item.raw,
                fallback_date=item.internal_date,
                now=now,
                max_bytes=self._max_message_bytes(),
            )
        return Email.of(item, parsed, now)

    @api.model
    def _max_message_bytes(self):
        value = self.env["ir.config_parameter"].sudo().get_param("comunik_mail.max_message_bytes")
        try:
            return max(int(value), 1024) if value else limits.MAX_MESSAGE_BYTES
        except ValueError:
            return limits.MAX_MESSAGE_BYTES

    # ------------------------------------------------------------------ 2. dedupe

    @api.model
    def _dedupe(self, account, emails):
        keys = dedupe.lookup_keys([e.key for e in emails], [e.digest for e in emails])
        self.env.cr.execute(
            """SELECT message_id, comunik_content_digest FROM mail_message
                WHERE comunik_account_id = %s AND message_id = ANY(%s)""",
            [account.id, keys],
        )
        existing = dict(self.env.cr.fetchall())
        sent_by_odoo = self._sent_by_odoo(account, [e.key for e in emails])
        kept = []
        for decision in dedupe.classify_duplicates([(e.key, e.digest) for e in emails], existing):
            email = emails[decision.index]
            if decision.action == dedupe.DUPLICATE or email.key in sent_by_odoo:
                continue
            if decision.action == dedupe.VARIANT:
                _logger.info(
                    "Email UID %s of %s reuses the Message-ID %s of a different email: stored as %s",
                    email.item.uid,
                    account.email,
                    decision.original_key,
                    decision.key,
                )
            email.key = decision.key
            kept.append(email)
        return kept

    @api.model
    def _sent_by_odoo(self, account, keys):
        """Keys of emails Odoo itself sent from this box's conversations (their copy in Sent, or a Cc to the box)."""
        self.env.cr.execute(
            """SELECT message_id FROM mail_message
                WHERE model = %s AND message_id = ANY(%s) AND comunik_account_id IS NULL
                  AND res_id IN (SELECT id FROM comunik_mail_conversation WHERE account_id = %s)""",
            [CONVERSATION, keys, account.id],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    # ------------------------------------------------------------------ 3. thread

    @api.model
    def _known_threads(self, account, emails):
        """Stored key -> conversation id, for the keys this batch replies to (outgoing replies included)."""
        keys = thread_plan.referenced_keys(emails)
        if not keys:
            return {}
        self.env.cr.execute(
            """SELECT message_id, res_id FROM mail_message
                WHERE model = %s AND message_id = ANY(%s)
                  AND res_id IN (SELECT id FROM comunik_mail_conversation WHERE account_id = %s)""",
            [CONVERSATION, keys, account.id],
        )
        known = dict(self.env.cr.fetchall())
        # A message left on a merged-away conversation: its thread goes on in the conversation it was merged into.
        redirects = self.env[CONVERSATION]._merge_redirects(set(known.values()))
        return {key: redirects.get(conversation_id, conversation_id) for key, conversation_id in known.items()}

    # ------------------------------------------------------------------ 4. store

    @api.model
    def _partners(self, emails, outgoing=False):
        """Sender (and for outgoing emails first recipient) address -> partner, creating the missing ones at once."""
        names = {}
        for email in emails:
            contacts = [(email.parsed.from_name, email.parsed.from_email)]
            if outgoing:
                contacts += email.parsed.to[:1]
            for name, address in contacts:
                address = email_normalize(address) if address else False
                if address and address not in names:
                    names[address] = name or address
        if not names:
            return {}
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        partners = {}
        for partner in Partner.search([("email_normalized", "in", list(names))], order="id"):
            partners.setdefault(partner.email_normalized, partner)
        missing = [address for address in names if address not in partners]
        # Like Odoo's gateway, nobody follows the new contact; unlike it, no « Contact créé » note is logged on
        # it: one message less per new customer, and the conversation already tells where the contact came from.
        created = Partner.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(
            [{"name": names[address], "email": address} for address in missing]
        )
        partners.update(zip(missing, created, strict=True))
        return partners

    @api.model
    def _create_conversations(self, account, folder, emails, plan, partners, outgoing=False):
        """One conversation per email that starts a thread (``plan.roots``), dated by its emails' receive dates.

        A thread started by the box itself (sent from another client) is the team's own email: it belongs to
        its first recipient, is not new and waits closed (answered) until the customer replies.
        """
        values = []
        for root in plan.roots:
            parsed = emails[root].parsed
            first, last = plan.new_dates[root]
            vals = {
                "account_id": account.id,
                "folder_id": folder.id,
                "subject": parsed.subject or self.env._("(no subject)"),
                "partner_id": _partner(partners, parsed).id,
                "email_from": _format_from(parsed),
                "date_first": first,
                "date_last": last,
                "sender_date": emails[root].sender_date,
            }
            if outgoing:
                vals.update(
                    partner_id=_recipient(partners, parsed).id,
                    is_new=False,
                    state="closed",
                    close_date=first,
                    first_response_date=first,
                    last_user_id=account.owner_id.id if account.category == "personal" else False,
                )
            values.append(vals)
        return self.env[CONVERSATION].sudo().with_context(**QUIET_CONTEXT).create(values)

    @api.model
    def _create_messages(
        self, account, folder, emails, conversation_ids, partners, degraded_reason=None, outgoing=False
    ):
        Attachment = self.env["ir.attachment"].sudo()
        attachment_vals, owners = [], []
        for index, email in enumerate(emails):
            for attachment in email.parsed.attachments:
                attachment_vals.append(
                    {
                        "name": attachment.filename,
                        "raw": attachment.content,
                        "mimetype": attachment.mimetype,
                        "res_model": CONVERSATION,
                        "res_id": conversation_ids[index],
                    }
                )
                owners.append((index, attachment.content_id))
        attachments = Attachment.create(attachment_vals) if attachment_vals else Attachment
        per_message = {}
        for (index, content_id), attachment in zip(owners, attachments, strict=True):
            per_message.setdefault(index, []).append((attachment, content_id))

        comment_subtype_id = self.env.ref("mail.mt_comment").id
        values = []
        for index, email in enumerate(emails):
            parsed, linked = email.parsed, per_message.get(index, [])
            values.append(
                {
                    "model": CONVERSATION,
                    "res_id": conversation_ids[index],
                    "message_type": "email",
                    "subtype_id": comment_subtype_id,
                    "message_id": email.key,
                    "subject": parsed.subject,
                    "email_from": _format_from(parsed),
                    "author_id": _partner(partners, parsed).id,
                    "date": email.date,
                    "body": self._body(parsed, linked, degraded_reason),
                    "attachment_ids": [(6, 0, [attachment.id for attachment, _cid in linked])],
                    "reply_to": parsed.reply_to or False,
                    "comunik_account_id": account.id,
                    "comunik_folder_id": folder.id,
                    "comunik_uid": email.item.uid,
                    "comunik_uidvalidity": folder.uidvalidity or False,
                    "comunik_content_digest": email.digest,
                    "comunik_sender_date": email.sender_date,
                    "comunik_degraded": bool(degraded_reason),
                    "comunik_outgoing": outgoing,
                    "comunik_degraded_reason": degraded_reason or False,
                    "incoming_email_to": parsed.headers.get("to") or False,
                    "incoming_email_cc": parsed.headers.get("cc") or False,
                }
            )
            if parsed.warnings:
                _logger.info("Email %s of %s stored with warnings: %s", email.key, account.email, parsed.warnings)
        return self.env["mail.message"].sudo().with_context(**QUIET_CONTEXT).create(values)

    @api.model
    def _update_existing(self, existing_dates):
        """Replies to stored conversations bring them up (« Dernier message »), show them as new again and
        reopen the closed ones (to their last assignee)."""
        if not existing_dates:
            return
        replied = self.env[CONVERSATION].sudo().browse(sorted(existing_dates))
        for conversation in replied:
            if not conversation.date_last or conversation.date_last < existing_dates[conversation.id]:
                conversation.date_last = existing_dates[conversation.id]
        replied.is_new = True
        replied.filtered(lambda c: c.state == "closed")._reopen()
        replied._wake_on_reply()  # « Réveiller si le client répond »

    @api.model
    def _record_answers(self, emails, conversation_ids):
        """Answers found in Sent bring their conversation up and count as its first response when earlier."""
        per_conversation = {}
        for email, conversation_id in zip(emails, conversation_ids, strict=True):
            first, last = per_conversation.get(conversation_id, (email.date, email.date))
            per_conversation[conversation_id] = (min(first, email.date), max(last, email.date))
        conversations = self.env[CONVERSATION].sudo().with_context(**QUIET_CONTEXT).browse(sorted(per_conversation))
        for conversation in conversations:
            first, last = per_conversation[conversation.id]
            values = {}
            if not conversation.date_last or conversation.date_last < last:
                values["date_last"] = last
            answered = max(first, conversation.date_first) if conversation.date_first else first
            if not conversation.first_response_date or answered < conversation.first_response_date:
                values["first_response_date"] = answered
            if values:
                conversation.write(values)

    @api.model
    def _body(self, parsed, linked, degraded_reason=None):
        """HTML body with inline images pointing to their stored attachments, plus French notes."""
        body = parsed.body_html or ""
        by_cid = {cid: attachment for attachment, cid in linked if cid}
        if by_cid and "cid:" in body:

            def replace(match):
                attachment = by_cid.get(match.group(2))
                if not attachment:
                    return match.group(0)
                return f"{match.group(1)}/web/image/{attachment.id}{match.group(1)}"

            body = _CID.sub(replace, body)
        notes = []
        if degraded_reason:
            notes.append(
                self.env._(
                    "Received with errors: this email could not be stored normally. "
                    "The headers that could be read are shown and its original source is attached."
                )
            )
        if "unparseable" in parsed.warnings:
            notes.append(self.env._("This email could not be read: its original source is attached."))
        reasons = {code.split(":", 1)[0] for code in limits.quarantine_reasons(parsed.warnings)}
        if limits.TOO_LARGE in reasons:
            notes.append(
                self.env._(
                    "This email is larger than %(size)s MB: only its headers were stored.",
                    size=self._max_message_bytes() // (1024 * 1024),
                )
            )
        if reasons & {limits.TOO_MANY_PARTS, limits.ATTACHMENTS_DROPPED}:
            notes.append(
                self.env._(
                    "This email has too many parts or attachments to store them one by one: "
                    "its original source is attached."
                )
            )
        for note in notes:
            body += str(Markup('<p class="text-warning">%s</p>') % note)
        return body

    # ------------------------------------------------------------------ labels

    @api.model
    def _apply_labels(self, emails, conversation_ids):
        """Labels whose recipient addresses appear in To or Cc (never Bcc: not in the headers we get)."""
        Label = self.env["comunik.mail.label"]
        mapping = Label._labels_by_address()
        if not mapping:
            return
        per_conversation = {}
        for email, conversation_id in zip(emails, conversation_ids, strict=True):
            parsed = email.parsed
            label_ids = Label._match([address for _name, address in parsed.to + parsed.cc], mapping)
            if label_ids:
                per_conversation.setdefault(conversation_id, set()).update(label_ids)
        by_labels = {}
        for conversation_id, label_ids in per_conversation.items():
            by_labels.setdefault(frozenset(label_ids), []).append(conversation_id)
        for label_ids, ids in by_labels.items():
            self.env[CONVERSATION].sudo().browse(ids).with_context(**QUIET_CONTEXT).write(
                {"label_ids": [(4, label_id) for label_id in sorted(label_ids)]}
            )

    # ------------------------------------------------------------------ isolation

    @api.model
    def _ingest_degraded(self, account, folder, item, error, uidvalidity=None):
        """The one email that cannot be stored normally: stored with what could be read, else quarantined."""
        reason = _reason(error)
        _logger.warning("Email UID %s of %s could not be stored normally: %s", item.uid, account.email, reason)
        try:
            with self.env.cr.savepoint():
                self._store_degraded(account, folder, item, reason)
            return IngestResult(new=1, degraded=1)
        except Exception as exc:  # noqa: BLE001 - last resort: the quarantine
            _logger.warning("Email UID %s of %s quarantined: %s", item.uid, account.email, _reason(exc))
            try:
                with self.env.cr.savepoint():
                    self.env["comunik.mail.quarantine"]._put(account, folder, item, reason, uidvalidity)
            except Exception:  # noqa: BLE001 - nothing may stop the box
                _logger.exception("Email UID %s of %s could not even be quarantined", item.uid, account.email)
            return IngestResult(quarantined=[item.uid])

    @api.model
    def _store_degraded(self, account, folder, item, reason):
        """Headers only (as far as they can be read), raw source attached, its own conversation."""
        now = fields.Datetime.now()
        match = re.search(rb"\r?\n\r?\n", item.raw or b"")
        parsed = mime.headers_only((item.raw or b"")[: match.start() if match else limits.MAX_HEADER_BYTES])
        parsed.warnings = [w for w in parsed.warnings if w != limits.TOO_LARGE]
        parsed.attachments = [mime.Attachment(mime.RAW_FILENAME, item.raw or b"", mime.RAW_MIMETYPE)]
        email = Email.of(item, parsed, now)
        if not self._dedupe(account, [email]):
            return
        plan = thread_plan.ThreadPlan(
            placements=[thread_plan.Placement(None, 0, 0)], roots=[0], new_dates={0: (email.date, email.date)}
        )
        conversation = self._create_conversations(account, folder, [email], plan, {})
        conversation.receive_error = reason
        self._create_messages(account, folder, [email], conversation.ids, {}, degraded_reason=reason)
        self.env.flush_all()


def _is_transient(exc):
    """Database failures that say nothing about the emails: retrying the same batch later will work."""
    if isinstance(exc, psycopg2.errors.LockNotAvailable | psycopg2.errors.QueryCanceled):
        return True
    if isinstance(exc, psycopg2.extensions.TransactionRollbackError | psycopg2.InterfaceError):
        return True  # serialization failure, deadlock; closed connection
    return isinstance(exc, psycopg2.OperationalError) and not getattr(exc, "pgcode", None)  # connection lost


def _digest(item):
    """Content digest of a fetched email; for an oversized one (headers only) its size counts too, so that
    it is never taken for a re-fetch of a bodiless email with the same headers."""
    digest = dedupe.content_digest(item.raw)
    if item.truncated:
        digest = hashlib.sha256(f"{digest}:{item.size}".encode()).hexdigest()
    return digest


def _reason(error):
    """A failure as one line of text, class name first (e.g. ``NumericValueOutOfRange: ...``)."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:MAX_REASON]


def _partner(partners, parsed):
    return partners.get(email_normalize(parsed.from_email) or "") or _EMPTY_PARTNER


def _recipient(partners, parsed):
    address = parsed.to[0][1] if parsed.to else ""
    return partners.get(email_normalize(address) or "") or _EMPTY_PARTNER


class _EmptyPartner:
    id = False


_EMPTY_PARTNER = _EmptyPartner()


def _format_from(message):
    if message.from_name and message.from_email:
        return f'"{message.from_name}" <{message.from_email}>'
    return message.from_email or message.from_name or ""


_CID = re.compile(r"""(["'])cid:([^"']+)\1""")
