"""Which conversation each email of a batch belongs to: the one place this decision is made.

(Named ``thread_plan`` rather than ``threading`` so that it never shadows the standard library.)

An email joins the conversation of its closest known parent: ``In-Reply-To`` first, then
``References`` from the last (the direct parent) to the first (the thread's root). A parent
is known when it is already stored (``known``: key -> conversation id) or is another email of
the same batch. An email with no known parent starts a new conversation.

Unlike a single pass in date order, a reply whose original comes later in the batch (the
sender's clock was wrong, or both arrived in the same second) still joins it, and a reference
loop between emails (forged or broken headers) starts exactly one conversation.

Parent ids go through ``dedupe.thread_key``, so a reply to an email whose Message-ID was too long
to be stored as is still finds it under its digest key.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from .dedupe import thread_key

EXISTING = "existing"  # joins a conversation already stored
NEW = "new"  # starts a new conversation
BATCH = "batch"  # joins the new conversation started by another email of the batch


class ThreadInput(NamedTuple):
    """What threading needs from one email (any object with these attributes will do).

    ``key`` is the email's storage key (``dedupe.dedupe_key`` / ``Decision.key``) and ``date`` its
    receive date (``dates.receive_date``).
    """

    key: str
    in_reply_to: str | None
    references: Sequence[str]
    date: datetime


@dataclass(frozen=True)
class Placement:
    """Where one email goes: an existing ``conversation_id``, or the new conversation of batch email ``root``."""

    conversation_id: int | None = None
    root: int | None = None
    index: int = 0

    @property
    def kind(self):
        if self.conversation_id is not None:
            return EXISTING
        return NEW if self.root == self.index else BATCH


@dataclass
class ThreadPlan:
    """Placements (one per email, in input order) and the dates each touched conversation needs.

    ``roots``: indexes of the emails starting a new conversation (its subject, sender... come from it).
    ``new_dates``: root index -> (first, last) receive date of that new conversation's emails.
    ``existing_dates``: conversation id -> latest receive date of the emails joining it, so that
    « Dernier message » becomes the last email even when original and reply arrive together.
    """

    placements: list[Placement] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    new_dates: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    existing_dates: dict[int, datetime] = field(default_factory=dict)

    def conversation_ids(self, created):
        """Conversation id of every email, once the caller created ``created``: root index -> new id."""
        return [
            placement.conversation_id if placement.conversation_id is not None else created[placement.root]
            for placement in self.placements
        ]


def parent_keys(message):
    """Candidate parent keys of an email, closest first (In-Reply-To, then References reversed)."""
    candidates = [message.in_reply_to] if message.in_reply_to else []
    candidates += list(reversed(list(message.references or ())))
    keys = []
    for candidate in candidates:
        key = thread_key(candidate)
        if key is not None and key not in keys:
            keys.append(key)
    return keys


def referenced_keys(messages):
    """Every parent key the batch refers to: what the caller looks up (key -> conversation id) for ``known``."""
    keys = set()
    for message in messages:
        keys.update(parent_keys(message))
    return sorted(keys)


def plan_threads(messages: Sequence, known: Mapping[str, int]) -> ThreadPlan:
    """Place every email of a batch (sorted by receive date) in a conversation; pure, no I/O.

    :param messages: ThreadInput-like objects (``key``, ``in_reply_to``, ``references``, ``date``)
    :param known: key -> conversation id of stored emails (at least those the batch refers to)
    """
    messages = list(messages)
    index_of = {}
    for index, message in enumerate(messages):
        index_of.setdefault(message.key, index)
    parents = []
    for index, message in enumerate(messages):
        parent = None
        for key in parent_keys(message):
            if key in known or index_of.get(key, index) != index:
                parent = key
                break
        parents.append(parent)

    resolved = [None] * len(messages)  # (conversation_id, root)
    for start in range(len(messages)):
        while resolved[start] is None:
            path, on_path, current = [], set(), start
            while True:
                if resolved[current] is not None:
                    target = resolved[current]
                    break
                if current in on_path:  # a reference loop: its earliest email starts the conversation
                    loop = path[path.index(current) :]
                    parents[min(loop)] = None
                    target = None
                    break
                on_path.add(current)
                path.append(current)
                parent = parents[current]
                if parent is None:
                    target = (None, current)
                    break
                if parent in known:
                    target = (known[parent], None)
                    break
                current = index_of[parent]
            if target is not None:
                for index in path:
                    resolved[index] = target

    plan = ThreadPlan()
    for index, (conversation_id, root) in enumerate(resolved):
        plan.placements.append(Placement(conversation_id, root, index))
        date = messages[index].date
        if conversation_id is not None:
            latest = plan.existing_dates.get(conversation_id)
            plan.existing_dates[conversation_id] = date if latest is None or date > latest else latest
            continue
        if root == index:
            plan.roots.append(index)
        first, last = plan.new_dates.get(root, (date, date))
        plan.new_dates[root] = (min(first, date), max(last, date))
    return plan
