"""Caps that keep one abnormal email from stopping (or swamping) a mailbox, and the pure checks using them.

Every cap degrades gracefully instead of failing: an email above ``MAX_MESSAGE_BYTES`` is
fetched and stored with its headers only, parts beyond ``MAX_PARTS`` are not walked and
attachments beyond ``MAX_ATTACHMENTS`` are not stored one by one; in both cases the raw
source is kept as one attachment, so nothing is lost. Reasons are machine codes (also
found in ``ParsedMessage.warnings``) that the Odoo layer translates.
"""

#: Largest email fetched and parsed in full; above it only the headers are (``BODY.PEEK[HEADER]``).
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
#: Most attachments stored for one email (the raw source included when something was left out).
MAX_ATTACHMENTS = 100
#: Most MIME parts walked in one email (the 20,000-tiny-parts email).
MAX_PARTS = 1000
#: Deepest multipart nesting walked (recursion stays far from Python's limit).
MAX_DEPTH = 100
#: Byte budget of one FETCH round trip (sum of RFC822.SIZE), hence of one batch held in memory.
MAX_FETCH_BYTES = 25 * 1024 * 1024
#: Most header bytes fetched for an oversized email.
MAX_HEADER_BYTES = 2 * 1024 * 1024

TOO_LARGE = "too-large"  # stored with headers only
TOO_MANY_PARTS = "too-many-parts"  # parts beyond MAX_PARTS or MAX_DEPTH not walked; raw source attached
ATTACHMENTS_DROPPED = "attachments-dropped"  # "attachments-dropped:<n>"; raw source attached

#: Warning codes (prefixes) that mean "this email was not stored in full": worth a note on the message.
QUARANTINE_CODES = (TOO_LARGE, TOO_MANY_PARTS, ATTACHMENTS_DROPPED)


def is_oversized(size, max_message_bytes=MAX_MESSAGE_BYTES):
    """True when an email of ``size`` bytes (RFC822.SIZE) must be fetched and stored with its headers only."""
    return size is not None and size > max_message_bytes


def quarantine_reasons(warnings):
    """The machine codes, among ``warnings`` of a ParsedMessage, saying the email was not stored in full."""
    return [code for code in warnings if code.split(":", 1)[0] in QUARANTINE_CODES]


def plan_round_trips(
    sizes, max_bytes=MAX_FETCH_BYTES, max_count=200, max_message_bytes=MAX_MESSAGE_BYTES, header_cost=64 * 1024
):
    """Group UIDs into FETCH round trips, keeping UID order, each under ``max_bytes`` and ``max_count``.

    :param sizes: ``[(uid, size)]`` in the order to fetch (size None when unknown: counted as 0)
    :return: lists of ``(uid, oversized)``; an oversized email costs ``header_cost`` (only its
        headers come), a single email larger than the budget makes a round trip of its own.
    """
    groups, current, used = [], [], 0
    for uid, size in sizes:
        oversized = is_oversized(size, max_message_bytes)
        cost = header_cost if oversized else max(int(size or 0), 0)
        if current and (used + cost > max_bytes or len(current) >= max_count):
            groups.append(current)
            current, used = [], 0
        current.append((uid, oversized))
        used += cost
    if current:
        groups.append(current)
    return groups
