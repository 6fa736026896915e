"""Merging and splitting conversations: the decisions, without the ORM.

A merge moves the emails of conversations of one box into one of them (the *target*, by default the
oldest), archives the others and logs which emails came from where, so that it can be undone for
``UNMERGE_DAYS`` days, restoring each conversation with exactly its own emails.

Datetimes are naive UTC, as Odoo stores them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

#: How long a merge can be undone.
UNMERGE_DAYS = 30


@dataclass(frozen=True)
class Candidate:
    """What the decisions need to know of one conversation."""

    id: int
    date_first: datetime | None
    customer: str  # the partner id as text, else the normalized sender address, else ""


def default_target(candidates):
    """The id of the oldest conversation (first received; ties and undated ones by id), None if none."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.date_first is None, c.date_first or datetime.min, c.id)).id


def customers_differ(candidates):
    """Whether the conversations are not all from one customer (conversations without any are ignored)."""
    return len({c.customer for c in candidates if c.customer}) > 1


def customer_key(partner_id, email):
    """The customer of a conversation: its partner when it has one, else its sender's normalized address."""
    if partner_id:
        return f"partner:{partner_id}"
    return f"email:{email}" if email else ""


def can_unmerge(merge_date, now, unmerged=False, days=UNMERGE_DAYS):
    """Whether a merge done at ``merge_date`` can still be undone at ``now``."""
    if unmerged or not merge_date:
        return False
    return now - merge_date <= timedelta(days=days)


def merged_dates(dates):
    """(first, last) of the receive dates of the emails of a conversation, ignoring missing ones."""
    known = [date for date in dates if date]
    if not known:
        return None, None
    return min(known), max(known)


def restored_first_response(saved, current, merge_date):
    """First response of a target once a merge is undone.

    ``saved`` is the target's own before the merge. Without one, a response dated before the merge came from
    a merged-away conversation (it leaves with it); one dated after was given on the target and stays.
    """
    if saved:
        return saved
    if current and merge_date and current >= merge_date:
        return current
    return None


def final_targets(merged_into):
    """{conversation id: the conversation its emails are now in}, following chains of merges.

    ``merged_into`` maps each archived, merged-away conversation to the one it was merged into. Cycles
    (impossible by construction) stop where they loop.
    """
    result = {}
    for start in merged_into:
        seen, current = {start}, merged_into[start]
        while current in merged_into and current not in seen:
            seen.add(current)
            current = merged_into[current]
        result[start] = current
    return result
