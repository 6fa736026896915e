"""Raw RFC 822 bytes (as fetched with ``BODY.PEEK[]``) to plain data the Odoo layer stores in bulk.

Three rules drive everything here:

* never raise, whatever the bytes: a message that cannot be parsed is still
  returned, with its raw source attached and the ``unparseable`` warning;
* never lose anything: every part that is not the chosen body becomes an
  attachment, and a message whose content could not be turned into a body or
  attachments keeps its raw source as ``message-original.eml``;
* parse once and in linear time, since a sync handles thousands of messages.

The ``compat32`` policy is used on purpose: it is far more tolerant and faster
than ``email.policy.default``; headers are decoded here, each on its own, so one
broken header never spoils the others.

Warnings are stable machine codes: ``unparseable`` (not an email, or the parse
failed: the raw source is attached), ``no-body`` (nothing usable was found: the
raw source is attached), ``no-date``, ``defects:<n>`` (MIME defects counted by
the parser), ``bad-charset:<name>`` (unknown charset label),
``decode-errors:<charset>`` (bytes invalid in their declared charset, replaced)
and ``bad-attachment:<filename or mimetype>`` (broken or missing transfer
encoding, best-effort bytes kept).
"""

import base64
import binascii
import contextlib
import email
import email.errors
import email.policy
import email.utils
import hashlib
import html
import itertools
import mimetypes
import quopri
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser

from . import dates, limits

#: Headers kept (decoded) in ``ParsedMessage.headers`` for routing; always present, "" when absent.
ROUTING_HEADERS = ("to", "cc", "delivered-to", "auto-submitted", "x-priority", "list-id")

DIGEST_DOMAIN = "comunik.invalid"
RAW_FILENAME = "message-original.eml"
RAW_MIMETYPE = "message/rfc822"
EMBEDDED_FILENAME = "message-joint.eml"
FALLBACK_STEM = "piece-jointe"
MAX_FILENAME = 200
#: Longest header text decoded (RFC 2047, MIME parameters): the stdlib turns quadratic on absurd lengths.
MAX_HEADER = 32768

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_SPACES = re.compile(r"[ \t\r\n\x0b\x0c]+")
_BREAKS = re.compile(r"[\t\r\n\x0b\x0c]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MSGID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
#: The lookbehind makes a match start only after a separator: linear time even on a long run without "@".
_EMAIL = re.compile(r"(?<![^\s@<>()\[\],;:\"\\])[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]+")
_CID_REFERENCE = re.compile(r"""cid:([^"'\s<>)]+)""", re.IGNORECASE)

_ASCII_CHARSETS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "646"}
_LATIN1_CHARSETS = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "cp819", "8859-1"}
#: Labels seen in the wild that Python does not know under that name (WHATWG-style aliases).
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "x-sjis": "shift_jis",
}
#: Extensions for fallback names where the system's mimetypes database is missing or unstable.
_EXTENSIONS = {
    "application/ms-tnef": ".dat",
    "application/octet-stream": ".bin",
    "image/jpeg": ".jpg",
    "image/pjpeg": ".jpg",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/calendar": ".ics",
    "text/plain": ".txt",
    "text/rfc822-headers": ".txt",
}
#: Regenerated embedded messages keep the CRLF line ends of the IMAP source.
_CRLF = email.policy.compat32.clone(linesep="\r\n")
_KNOWN_CTE = {"7bit", "8bit", "binary"}
_DECODED_CTE = {"base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"}


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str
    content_id: str | None = None
    inline: bool = False


@dataclass
class ParsedMessage:
    message_id: str = ""
    message_id_is_digest: bool = False
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_email: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: str = ""
    #: The sender's date if sane (see dates.clamp_header_date), else ``fallback_date``: kept for existing callers.
    date: datetime | None = None
    #: The sender's ``Date:`` as parsed (naive UTC), unclamped, None when missing or unparseable.
    header_date: datetime | None = None
    body_html: str = ""
    body_text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------- public API


def message_digest(raw: bytes) -> str:
    """Stable Message-ID for a message without one: it depends on the bytes only, never on the parse."""
    return f"<{hashlib.sha256(_as_bytes(raw)).hexdigest()[:32]}@{DIGEST_DOMAIN}>"


def addresses(header_value: str) -> list[tuple[str, str]]:
    """``[(name, email)]`` from an address header; emails lowercased, invalid entries dropped, never raises."""
    try:
        text = _unfold(_header_text(header_value))
    except Exception:  # noqa: BLE001 - whatever came in, an address list is expected out
        return []
    if not text.strip():
        return []
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # noqa: BLE001 - getaddresses has raised on odd input in some Python versions
        pairs = []
    result = []
    for name, address in pairs:
        address = (address or "").strip().strip("<>").lower()
        if not _EMAIL.fullmatch(address):
            continue
        result.append((_clean_name(name), address))
    if not result:
        # Nothing RFC-shaped ("Jean Dupont jean@x.fr", stray brackets...): take the bare addresses.
        result = [("", found.lower().strip(".")) for found in _EMAIL.findall(text.replace("<", " ").replace(">", " "))]
    return result


def parse_message(
    raw: bytes,
    fallback_date: datetime | None = None,
    now: datetime | None = None,
    max_bytes: int = limits.MAX_MESSAGE_BYTES,
    max_parts: int = limits.MAX_PARTS,
    max_attachments: int = limits.MAX_ATTACHMENTS,
) -> ParsedMessage:
    """Parse raw RFC 822 bytes; never raises (see the module docstring).

    ``date`` is the sender's date when sane (1970 .. ``now`` + 1 year, see ``dates``), else
    ``fallback_date``; ``header_date`` is the sender's date as written, for the caller's own choice.
    Bounded work and output whatever the input: above ``max_bytes`` only the headers are parsed
    (``too-large``), at most ``max_parts`` parts are walked and ``max_attachments`` kept (see ``limits``).
    """
    raw = _as_bytes(raw)
    fallback_date = dates.naive_utc(fallback_date)
    now = dates.naive_utc(now) or datetime.now(UTC).replace(tzinfo=None)
    if len(raw) > max_bytes:
        match = _HEADER_END.search(raw, 0, limits.MAX_HEADER_BYTES)
        return headers_only(raw[: match.end() if match else limits.MAX_HEADER_BYTES], fallback_date, now)
    try:
        return _parse(raw, fallback_date, now, max_parts, max(max_attachments, 1))
    except Exception:  # noqa: BLE001 - the promise is "never raise": keep the raw source instead
        return _unparseable(raw, fallback_date, now)


def headers_only(raw_headers: bytes, fallback_date: datetime | None = None, now: datetime | None = None):
    """An email too large to be fetched in full, from its header block only (``BODY.PEEK[HEADER]``).

    Sender, subject, ids and dates as usual, no body, no attachment, and the ``too-large``
    warning so that the caller stores it with a note. Never raises.
    """
    raw_headers = _as_bytes(raw_headers)[: limits.MAX_HEADER_BYTES]
    fallback_date = dates.naive_utc(fallback_date)
    now = dates.naive_utc(now) or datetime.now(UTC).replace(tzinfo=None)
    try:
        msg = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw_headers)
        result = _headers(msg, raw_headers, fallback_date, now)
        result.body_html = result.body_text = ""
    except Exception:  # noqa: BLE001 - same promise as parse_message
        result = _unparseable(raw_headers, fallback_date, now)
        result.attachments = []
    result.warnings = _unique([*result.warnings, limits.TOO_LARGE])
    return result


# ---------------------------------------------------------------------------- parsing


class _Walker:
    """One pass over the MIME tree: body pieces and attachments, in document order.

    Bounded: parts beyond ``max_parts`` (or nested deeper than ``limits.MAX_DEPTH``) are skipped and
    attachments beyond ``max_attachments`` counted but not kept; the caller then attaches the raw source.
    """

    def __init__(self, warnings, max_parts=limits.MAX_PARTS, max_attachments=limits.MAX_ATTACHMENTS):
        self.warnings = warnings
        self.attachments = []
        self.max_parts = max_parts
        self.max_attachments = max_attachments
        self.parts = 0
        self.skipped = False
        self.dropped = 0

    def walk(self, part, depth=0):
        """Return ``(html, text)`` for this subtree (each None when absent) and collect its attachments."""
        self.parts += 1
        if self.parts > self.max_parts or depth > limits.MAX_DEPTH:
            self.skipped = True
            return None, None
        if part.is_multipart() and part.get_content_maintype() != "message":
            children = part.get_payload()
            results = []
            for child in children:
                if isinstance(child, Message):
                    results.append(self.walk(child, depth + 1))
                if self.skipped and self.parts > self.max_parts:
                    break
            if part.get_content_type() == "multipart/alternative":
                return _best_alternative(results)
            return _concatenate(results)
        return self.leaf(part)

    def leaf(self, part):
        info = _PartInfo(part, self.warnings)
        if info.maintype == "message":
            self.add_message(part, info)
            return None, None
        if info.is_body:
            content = self.payload(part, info)
            if info.subtype == "html":
                charset = info.charset or _meta_charset(content)
                return _decode_bytes(content, charset, self.warnings, "us-ascii"), None
            return None, _decode_bytes(content, info.charset, self.warnings, "us-ascii").replace("\r\n", "\n")
        self.add(self.payload(part, info), info)
        return None, None

    def payload(self, part, info):
        """Transfer-decoded bytes of a leaf part, best effort."""
        cte = _transfer_encoding(part)
        defects = len(part.defects)
        content = part.get_payload(decode=True)
        new_defects = part.defects[defects:]
        broken = bool(new_defects)
        if any(isinstance(defect, email.errors.InvalidBase64LengthDefect) for defect in new_defects):
            content = _truncated_base64(_raw_payload(part))  # decode what arrived instead of keeping base64 text
        if not isinstance(content, bytes):
            content = _raw_payload(part)
            broken = True
        if cte not in _DECODED_CTE and cte not in _KNOWN_CTE and info.maintype not in ("text", "multipart"):
            decoded = _looks_base64(content)
            if decoded is not None:  # a binary part sent without its "Content-Transfer-Encoding: base64"
                content, broken = decoded, True
        if broken:
            self.warnings.append(f"bad-attachment:{info.filename or info.mimetype}")
        return content

    def add(self, content, info, filename=None):
        mimetype = info.mimetype
        name = filename or info.filename
        if mimetype == "application/octet-stream" and name:
            mimetype = (mimetypes.guess_type(name, strict=False)[0] or mimetype).lower()
        if len(self.attachments) >= self.max_attachments:
            self.dropped += 1
            return
        if not name:
            name = f"{FALLBACK_STEM}-{len(self.attachments) + 1}{_extension(mimetype)}"
        self.attachments.append(Attachment(name, content, mimetype, info.content_id))

    def add_message(self, part, info):
        """``message/*`` parts: the embedded message's bytes, named after its subject."""
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        if inner is not None and info.subtype in ("rfc822", "global"):
            content = _message_bytes(inner)
            cte = _transfer_encoding(part)
            if cte in ("base64", "quoted-printable"):
                # Forbidden by RFC 2046 but seen: the parser saw base64 text, not a message.
                content = _decode_transfer(content, cte)
                inner = BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
            subject = _decode_header(inner.get("subject"), self.warnings).replace("/", "-").replace("\\", "-")
            name = info.filename or _filename(subject)
            if name and not name.lower().endswith(".eml"):
                name += ".eml"
            self.add(content, info, name or EMBEDDED_FILENAME)
        elif isinstance(payload, list):  # message/delivery-status: a list of header blocks
            content = b"".join(_message_bytes(block) for block in payload if isinstance(block, Message))
            self.add(content, info)
        else:
            self.add(self.payload(part, info), info)


class _PartInfo:
    """Content type, disposition, filename... of one part, tolerant to 8-bit (unencoded) parameter values."""

    def __init__(self, part, warnings):
        source = part
        raw_type, raw_disposition = part.get("content-type"), part.get("content-disposition")
        if any(isinstance(raw, Header) or len(raw) > MAX_HEADER for raw in (raw_type, raw_disposition) if raw):
            source = Message()  # 8-bit parameters decoded (utf-8, else latin-1), absurd lengths cut, before parsing
            if raw_type is not None:
                source["Content-Type"] = _unfold(_header_text(raw_type))[:MAX_HEADER]
            if raw_disposition is not None:
                source["Content-Disposition"] = _unfold(_header_text(raw_disposition))[:MAX_HEADER]
        self.mimetype = _safe(source.get_content_type).strip().lower() or "text/plain"
        self.maintype, _slash, self.subtype = self.mimetype.partition("/")
        self.disposition = _safe(source.get_content_disposition) or None
        self.charset = _safe(source.get_content_charset)
        self.filename = _filename(_decode_words(_safe(source.get_filename) or "", warnings))
        content_id = part.get("content-id")
        self.content_id = (_WHITESPACE.sub("", _header_text(content_id)).strip("<>") or None) if content_id else None
        self.is_body = (
            (self.mimetype in ("text/plain", "text/html") or self.maintype == "multipart")
            and self.disposition != "attachment"
            and not self.filename
        )


def _parse(raw, fallback_date, now, max_parts, max_attachments):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    result = _headers(msg, raw, fallback_date, now)
    warnings = result.warnings

    walker = _Walker(warnings, max_parts, max_attachments)
    html_body, text_body = walker.walk(msg)
    result.attachments = walker.attachments
    result.body_text = _clean_text(text_body or "")
    result.body_html = _clean_text(html_body) if html_body is not None else _text_to_html(result.body_text)
    if not result.body_html.strip():
        result.body_html = _text_to_html(result.body_text)  # blank HTML alternative: show the text one
    _mark_inline(result)

    defects = sum(len(part.defects) for part in itertools.islice(msg.walk(), max_parts))
    if defects:
        warnings.append(f"defects:{defects}")
    if walker.skipped:
        warnings.append(limits.TOO_MANY_PARTS)
    if not msg.keys() and raw.strip():
        # Not an email at all: show what could be read, and keep the source.
        warnings.append("unparseable")
        result.attachments.append(_raw_attachment(raw))
    elif not result.body_html and not result.body_text.strip() and not result.attachments and _has_body(raw):
        warnings.append("no-body")
        result.attachments.append(_raw_attachment(raw))
    elif walker.skipped or walker.dropped:
        # Not everything was walked or kept: the raw source is, within the attachment cap.
        dropped = walker.dropped
        if len(result.attachments) >= max_attachments:
            dropped += len(result.attachments) - max_attachments + 1
            del result.attachments[max_attachments - 1 :]
        if dropped:
            warnings.append(f"{limits.ATTACHMENTS_DROPPED}:{dropped}")
        result.attachments.append(_raw_attachment(raw))
    result.warnings = _unique(warnings)
    return result


def _headers(msg, raw, fallback_date, now):
    """Everything that comes from the header block (ids, sender, recipients, subject, dates)."""
    warnings = []
    result = ParsedMessage(warnings=warnings)

    message_ids = _message_ids(msg.get("message-id"))
    if message_ids:
        result.message_id = message_ids[0]
    else:
        result.message_id, result.message_id_is_digest = message_digest(raw), True
    in_reply_to = _message_ids(msg.get("in-reply-to"))
    result.in_reply_to = in_reply_to[0] if in_reply_to else None
    result.references = _message_ids(" ".join(_header_text(value) for value in msg.get_all("references") or ()))

    result.subject = _clean_line(_decode_header(msg.get("subject"), warnings))
    senders = addresses(_joined(msg, "from"))
    if senders:
        result.from_name, result.from_email = senders[0]
    else:
        result.from_name = _clean_name(_decode_header(msg.get("from"), warnings))
    result.to = addresses(_joined(msg, "to"))
    result.cc = addresses(_joined(msg, "cc"))
    result.reply_to = _clean_line(_decode_header(msg.get("reply-to"), warnings))
    result.headers = {
        name: _clean_line(", ".join(_decode_header(value, warnings) for value in msg.get_all(name) or ()))
        for name in ROUTING_HEADERS
    }

    _set_dates(result, msg.get("date"), fallback_date, now)
    return result


def _unparseable(raw, fallback_date, now):
    """Last resort: a few headers found by regex in the header block, and the raw source attached."""
    result = ParsedMessage(
        warnings=["unparseable"], attachments=[_raw_attachment(raw)], headers=dict.fromkeys(ROUTING_HEADERS, "")
    )
    result.message_id, result.message_id_is_digest = message_digest(raw), True
    date_header = None
    with contextlib.suppress(Exception):  # best effort only: the raw source is already attached
        match = _HEADER_END.search(raw, 0, 1 << 20)
        head = _unfold(_fallback_decode(raw[: match.start() if match else 1 << 16]))

        def header(name):
            found = re.search(rf"(?im)^{name}[ \t]*:[ \t]*(.*)$", head)
            return found.group(1).strip() if found else ""

        result.subject = _clean_line(_decode_words(header("subject"), []))
        senders = addresses(header("from"))
        if senders:
            result.from_name, result.from_email = senders[0]
        message_ids = _message_ids(header("message-id"))
        if message_ids:
            result.message_id, result.message_id_is_digest = message_ids[0], False
        date_header = header("date") or None
    _set_dates(result, date_header, fallback_date, now)
    return result


def _set_dates(result, value, fallback_date, now):
    """``header_date`` as written, ``date`` the sane one: an absurd sender date never reaches a deadline."""
    with contextlib.suppress(Exception):  # never raise: a broken Date header is just no date
        result.header_date = _parse_date(value)
    result.date = dates.clamp_header_date(result.header_date, now)
    if result.date is None:
        result.date = fallback_date
        result.warnings.append("no-date")
        if value is not None and str(value).strip():
            result.warnings.append("bad-date")


# ---------------------------------------------------------------------------- body helpers


def _best_alternative(results):
    """multipart/alternative: the richest HTML version (the last one), and the first plain text one."""
    html_body = next((h for h, _t in reversed(results) if h is not None), None)
    text_body = next((t for _h, t in results if t is not None), None)
    return html_body, text_body


def _concatenate(results):
    """multipart/mixed, related...: bodies in order (e.g. a mailing list footer after the message)."""
    bodies = [(h, t) for h, t in results if h is not None or t is not None]
    if not bodies:
        return None, None
    if len(bodies) == 1:
        return bodies[0]
    html_body = None
    if any(h is not None for h, _t in bodies):
        html_body = "\n".join(h if h is not None else _text_to_html(t) for h, t in bodies)
    texts = [t for _h, t in bodies if t is not None]
    return html_body, "\n".join(texts) if texts else None


def _mark_inline(result):
    """Inline means shown inside the body: a part with a Content-ID that the HTML body refers to (``cid:``).

    Parts with a Content-ID the body never uses (Apple Mail gives one to every part) stay regular
    attachments, so that they remain visible.
    """
    if not any(attachment.content_id for attachment in result.attachments):
        return
    used = set()
    for reference in _CID_REFERENCE.findall(result.body_html):
        used.add(reference)
        used.add(urllib.parse.unquote(reference))
    for attachment in result.attachments:
        attachment.inline = attachment.content_id in used if attachment.content_id else False


def _text_to_html(text):
    if not text or not text.strip():
        return ""
    escaped = html.escape(text.replace("\r\n", "\n")).replace("\n", "<br/>")
    return f'<div style="white-space: pre-wrap">{escaped}</div>'


def _meta_charset(content):
    match = _META_CHARSET.search(content, 0, 4096)
    return match.group(1).decode("ascii").lower() if match else None


def _raw_payload(part):
    payload = part.get_payload()
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return _encode_lenient(payload)
    if isinstance(payload, list):
        return b"\n".join(_message_bytes(item) for item in payload if isinstance(item, Message))
    return b""


def _encode_lenient(text):
    try:
        return text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _looks_base64(content):
    """Decoded bytes if ``content`` is clearly base64 text (wrapped lines of the alphabet only), else None."""
    if len(content) < 64 or not _BASE64_TEXT.fullmatch(content):
        return None
    compact = b"".join(content.split())
    if len(compact) % 4 or b"\n" not in content.strip():
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _truncated_base64(data):
    """Lenient base64: junk characters ignored, and when cut in the middle (4n+1) the dangling character dropped."""
    compact = _NOT_BASE64.sub(b"", data).rstrip(b"=")
    compact = compact[: len(compact) - len(compact) % 4] if len(compact) % 4 == 1 else compact
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4))
    except (binascii.Error, ValueError):
        return data


def _transfer_encoding(part):
    """Normalised Content-Transfer-Encoding; the header is rewritten so that " Base64 " still gets decoded."""
    header = part.get("content-transfer-encoding")
    if header is None:
        return ""
    cte = _header_text(header).strip().strip("\"'").lower()
    if cte != str(header).lower():
        part.replace_header("content-transfer-encoding", cte)
    return cte


def _decode_transfer(content, cte):
    if cte == "base64":
        return _truncated_base64(content)
    try:
        return quopri.decodestring(content)
    except ValueError:
        return content


def _extension(mimetype):
    extension = _EXTENSIONS.get(mimetype) or mimetypes.guess_extension(mimetype, strict=False)
    return extension or (".txt" if mimetype.startswith("text/") else ".bin")


def _message_bytes(message):
    try:
        return message.as_bytes(policy=_CRLF)
    except Exception:  # noqa: BLE001 - regenerating odd headers can fail: fall back to the text form
        try:
            return _encode_lenient(message.as_string())
        except Exception:  # noqa: BLE001
            return b""


def _raw_attachment(raw):
    return Attachment(RAW_FILENAME, raw, RAW_MIMETYPE)


def _has_body(raw):
    match = _HEADER_END.search(raw)
    return bool(raw[match.end() :].strip()) if match else False


# ---------------------------------------------------------------------------- headers


def _header_text(value):
    """A header value as ``str``: compat32 gives 8-bit (unencoded) headers as ``Header`` objects."""
    if value is None:
        return ""
    if isinstance(value, Header):
        try:
            return "".join(
                chunk if isinstance(chunk, str) else _fallback_decode(chunk) for chunk, _charset in decode_header(value)
            )
        except Exception:  # noqa: BLE001
            return str(value)
    value = str(value)
    if not value.isascii():
        try:
            return _fallback_decode(value.encode("utf-8", "surrogateescape"))
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _decode_header(value, warnings):
    return _decode_words(_unfold(_header_text(value)), warnings)


def _decode_words(text, warnings):
    """RFC 2047 encoded words; on any problem each chunk is decoded on its own, then the text is kept as is."""
    if "=?" not in text:
        return text
    if len(text) > MAX_HEADER:
        return _decode_words(text[:MAX_HEADER], warnings) + text[MAX_HEADER:]
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001 - unknown charset, bad bytes, broken base64...
        return _decode_chunks(text, warnings)


def _decode_chunks(text, warnings):
    try:
        pieces = []
        for chunk, charset in decode_header(text):
            if isinstance(chunk, str):
                pieces.append(chunk)
            elif charset is None:
                pieces.append(_unescape(chunk))
            else:
                pieces.append(_decode_bytes(chunk, charset, warnings, None))
        return "".join(pieces)
    except Exception:  # noqa: BLE001
        return text


def _unescape(chunk):
    """Inverse of the ``raw-unicode-escape`` encoding decode_header applies to unencoded words."""
    try:
        return chunk.decode("raw-unicode-escape")
    except UnicodeDecodeError:
        return chunk.decode("latin-1")


def _joined(msg, name):
    return ", ".join(_header_text(value) for value in msg.get_all(name) or ())


def _message_ids(value):
    ids = []
    for match in _MSGID.finditer(_header_text(value)):
        inner = _CONTROL.sub("", _WHITESPACE.sub("", match.group(1)))
        if inner:
            ids.append(f"<{inner}>")
    if not ids and value is not None:
        bare = _header_text(value).strip()
        if bare and not _WHITESPACE.search(bare) and "@" in bare:
            ids.append(f"<{bare}>")  # "abc@host" without brackets: replies will quote it as <abc@host>
    return ids


def _parse_date(value):
    return dates.parse_header_date(_unfold(_header_text(value)[: dates.MAX_DATE_TEXT * 4]))


# ---------------------------------------------------------------------------- text helpers


def _decode_bytes(data, charset, warnings, default):
    """Bytes to text with the declared charset; unknown names and undeclared bytes: utf-8, else latin-1."""
    name = _charset_name(charset) or default
    if not name or name in _ASCII_CHARSETS or name in ("unknown-8bit", "8bit", "x-user-defined"):
        return _fallback_decode(data)  # "us-ascii" is the most common label on mislabeled 8-bit text
    if name in _LATIN1_CHARSETS:
        name = "cp1252"  # as browsers do: iso-8859-1 mail written on Windows uses cp1252's € and quotes
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return data.decode(name)
    except LookupError:
        warnings.append(f"bad-charset:{_charset_name(charset)}")
        return _fallback_decode(data)
    except UnicodeDecodeError:
        if name == "cp1252":
            return data.decode("latin-1")
        warnings.append(f"decode-errors:{name}")
        return data.decode(name, "replace")
    except Exception:  # noqa: BLE001 - non-text codecs ("base64", "zlib"...) and codec bugs
        warnings.append(f"bad-charset:{_charset_name(charset)}")
        return _fallback_decode(data)


def _fallback_decode(data):
    """UTF-8, else Windows-1252, else Latin-1 (which decodes any byte)."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _charset_name(charset):
    if not charset:
        return ""
    name = str(charset).strip().strip("\"'").lower().split("*", 1)[0]
    return name if name.isascii() else name.encode("ascii", "replace").decode("ascii")


def _unfold(text):
    return _UNFOLD.sub("", text)


def _clean_text(text):
    """What PostgreSQL accepts: no NUL character, no lone surrogate."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            try:
                text = _fallback_decode(text.encode("utf-8", "surrogateescape"))
            except UnicodeEncodeError:
                text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _clean_line(text):
    """One line: each run of whitespace holding a tab or line break (what folding leaves) becomes one space."""
    if _BREAKS.search(text):
        text = _SPACES.sub(_one_space, text)
    return _clean_text(text).strip()


def _one_space(match):
    run = match.group()
    return run if _BREAKS.search(run) is None else " "


def _clean_name(name):
    name = _clean_line(_decode_words(_unfold(name or ""), []))
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return name


def _filename(name):
    """A storable file name: no path, no control character, a sane length (extension kept)."""
    if not name:
        return ""
    name = _clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub(" ", name).strip().strip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            name = name[:MAX_FILENAME]
    return name


def _safe(getter):
    try:
        value = getter()
    except Exception:  # noqa: BLE001 - parameter parsing of broken headers
        return ""
    return value if isinstance(value, str) else ""


def _unique(items):
    return list(dict.fromkeys(items))


def _as_bytes(raw):
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if raw is None:
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return str(raw).encode("utf-8", "replace")
