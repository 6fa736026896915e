"""Which key an email is stored under, and whether a fetched email is already stored.

An account stores each email once, keyed by its Message-ID (``mail_message.message_id``).
Two problems with using the header as is:

* a Message-ID can be absurdly long (one folded over many lines, ~4,000 characters, was
  enough to exceed PostgreSQL's btree row limit and stop the mailbox): above ``MAX_KEY``
  characters the key is a digest of the id, deterministic so that replies quoting that id in
  ``References`` still find it (``thread_key`` gives the same form);
* two *different* emails can share a Message-ID (broken mailers, forgeries): the second one
  used to be silently dropped as a duplicate. ``content_digest`` tells a re-fetch of the same
  email (skip it) from a different email with a reused id (store it under a derived key).

Typical use by the caller (one batch)::

    keys = [dedupe_key(parsed.message_id, item.raw) for ...]
    digests = [content_digest(item.raw) for ...]
    existing = <stored digest by key, for lookup_keys(keys, digests)>   # one query
    for decision in classify_duplicates(zip(keys, digests), existing):
        "new" / "variant" -> store under decision.key; "duplicate" -> skip
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Longest stored key, in characters: far below PostgreSQL's btree limit (~2,700 bytes) even in 4-byte UTF-8.
MAX_KEY = 255
DIGEST_DOMAIN = "comunik.invalid"

NEW = "new"
DUPLICATE = "duplicate"
VARIANT = "variant"

#: Whitespace from folding and control characters (NUL is refused by PostgreSQL) are never part of an id.
_NOISE = re.compile(r"[\s\x00-\x1f\x7f]+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
#: Headers that identify an email's content; servers and migration tools add others (Received, X-...) freely.
_IDENTITY_HEADERS = (b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to")
_HEADER_LINE = re.compile(rb"^([A-Za-z0-9-]+)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)


@dataclass(frozen=True)
class Decision:
    """What to do with one fetched email: ``action`` is NEW, DUPLICATE (skip) or VARIANT.

    VARIANT: same key as a stored (or earlier in the batch) email but different content; it is
    stored under ``key``, derived from its content, and ``original_key`` is the shared one (log it).
    """

    index: int
    action: str
    key: str
    original_key: str


def normalize_message_id(message_id):
    """A Message-ID without folding whitespace or control characters, in angle brackets; "" when empty."""
    if not message_id:
        return ""
    text = _NOISE.sub("", str(message_id))
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    text = text.strip("<>")
    return f"<{text}>" if text else ""


def digest_key(data):
    """``<sha256hex@comunik.invalid>`` of bytes or text: a stable key that is never a real Message-ID."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return f"<{hashlib.sha256(data or b'').hexdigest()}@{DIGEST_DOMAIN}>"


def thread_key(message_id):
    """The key under which an email with this Message-ID is stored (for In-Reply-To / References lookups).

    None when empty: an email without Message-ID cannot be replied to by id.
    """
    normalized = normalize_message_id(message_id)
    if not normalized:
        return None
    return normalized if len(normalized) <= MAX_KEY else digest_key(normalized)


def dedupe_key(message_id, raw):
    """The key an email is stored under: its normalized Message-ID, or a digest when missing or too long.

    Without Message-ID the digest is the one ``mime.message_digest`` always gave (first 32 hex
    digits of sha256 of the raw bytes), so emails stored before keep their key and a rescan
    does not store them twice.
    """
    key = thread_key(message_id)  # mime's own digest for id-less emails passes through unchanged
    if key is not None:
        return key
    return f"<{hashlib.sha256(_as_bytes(raw)).hexdigest()[:32]}@{DIGEST_DOMAIN}>"


def content_digest(raw):
    """sha256 hex of what makes an email *this* email: identity headers and body, line ends normalized.

    Not the raw bytes as such: re-fetching the same email after a mailbox migration (new
    UIDVALIDITY) may bring extra ``Received:``/``X-`` headers or CRLF changes, and must still be
    recognized as a duplicate rather than stored a second time.
    """
    raw = _as_bytes(raw)
    match = _HEADER_END.search(raw)
    head, body = (raw[: match.start()], raw[match.end() :]) if match else (raw, b"")
    digest = hashlib.sha256()
    identity = []
    for found in _HEADER_LINE.finditer(head):
        name = found.group(1).lower()
        if name in _IDENTITY_HEADERS:
            identity.append((name, b" ".join(found.group(2).split())))
    for name, value in sorted(identity):
        digest.update(name + b":" + value + b"\n")
    digest.update(b"\n")
    body = body.translate(None, b"\r")  # line ends as LF (C speed: bodies can be tens of megabytes)
    tail = body[-65536:]
    digest.update(memoryview(body)[: len(body) - (len(tail) - len(tail.rstrip()))])
    return digest.hexdigest()


def variant_key(digest):
    """Key of an email whose Message-ID is already taken by a different email: derived from its content."""
    return f"<{digest}.variant@{DIGEST_DOMAIN}>"


def lookup_keys(keys, digests):
    """Every key the caller must look up in the database before ``classify_duplicates``.

    The variant keys too: a variant stored by a previous (crashed) sync is a duplicate now.
    """
    return sorted(set(keys) | {variant_key(digest) for digest in digests})


def classify_duplicates(items: Iterable[tuple[str, str]], existing: Mapping[str, str | None]) -> list[Decision]:
    """One Decision per ``(key, content_digest)`` item, in order.

    :param items: the batch's keys (``dedupe_key``) with their ``content_digest``
    :param existing: stored key -> its stored content digest, or None when unknown (emails
        stored before digests were kept: they count as duplicates, as before)

    Duplicates within the batch are detected too: the first one wins.
    """
    known = dict(existing)
    decisions = []
    for index, (key, digest) in enumerate(items):
        if key not in known:
            known[key] = digest
            decisions.append(Decision(index, NEW, key, key))
            continue
        stored = known[key]
        if stored is None or stored == digest:
            decisions.append(Decision(index, DUPLICATE, key, key))
            continue
        derived = variant_key(digest)
        if derived in known:
            decisions.append(Decision(index, DUPLICATE, derived, key))
        else:
            known[derived] = digest
            decisions.append(Decision(index, VARIANT, derived, key))
    return decisions


def _as_bytes(raw):
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""
