"""Who gets the next email of a shared box: the one place automatic assignment decides.

The model (``comunik.mail.assignment``) gathers the facts under the box's lock (eligible members, their
load and capacity, the round-robin pointer, the customer's last handler) and applies the choices made here:

* **weight**: an urgent conversation counts twice in a member's load (``URGENT_WEIGHT``);
* **capacity**: a member is *full* when the email's weight would take their load above their capacity
  (0 = unlimited);
* **sticky**: a customer's new email goes to the member who last handled that customer, if eligible and not full;
* **round robin**: the next member after the last one served (by user id, cyclic), skipping the full ones;
* **balanced**: the member with the smallest load; ties go to the next one in round-robin order, so that equal
  loads rotate instead of always favouring the same person;
* **backlog**: unassigned emails are served longest-waiting first; none overtakes an older one that found
  nobody (``plan_backlog`` stops at the first email nobody can take).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

MANUAL = "manual"
ROUND_ROBIN = "round_robin"
BALANCED = "balanced"
STICKY = "sticky"  # a reason, not a mode: the customer's last handler
AUTOMATIC_MODES = (ROUND_ROBIN, BALANCED)
URGENT_PRIORITY = "2"
URGENT_WEIGHT = 2


def weight(priority):
    """Load an open conversation puts on its assignee."""
    return URGENT_WEIGHT if str(priority or "0") == URGENT_PRIORITY else 1


@dataclass(frozen=True)
class Member:
    """An eligible member of the box: ``load`` is the weight of their open conversations in it."""

    user_id: int
    load: int = 0
    capacity: int = 0  # 0 = unlimited

    def has_room(self, amount=1):
        return not self.capacity or self.load + amount <= self.capacity


@dataclass(frozen=True)
class Choice:
    user_id: int
    reason: str  # ROUND_ROBIN, BALANCED or STICKY
    load: int  # the member's load once this email is counted
    capacity: int


@dataclass(frozen=True)
class Waiting:
    """An unassigned conversation of the backlog."""

    id: int
    date: datetime | None  # when it arrived (date_first)
    priority: str = "0"
    partner_id: int | None = None


def backlog_order(items: Iterable[Waiting]):
    """Longest-waiting first (undated ones last), then by id: a stable, fair order."""
    return sorted(items, key=lambda w: (w.date is None, w.date or datetime.min, w.id))


def _rotation(members: Sequence[Member], last_user_id):
    """Members in round-robin order: those after ``last_user_id`` (by user id), then the others."""
    ordered = sorted(members, key=lambda m: m.user_id)
    if last_user_id is None:
        return ordered
    after = [m for m in ordered if m.user_id > last_user_id]
    return after + [m for m in ordered if m.user_id <= last_user_id]


def choose(mode, members: Sequence[Member], amount=1, last_user_id=None, sticky_user_id=None):
    """The member who takes an email of weight ``amount``, or None when everyone eligible is full."""
    if mode not in AUTOMATIC_MODES:
        return None
    free = [m for m in members if m.has_room(amount)]
    if not free:
        return None
    picked = next((m for m in free if m.user_id == sticky_user_id), None) if sticky_user_id else None
    reason = STICKY
    if picked is None:
        rotation = _rotation(free, last_user_id)
        if mode == ROUND_ROBIN:
            picked, reason = rotation[0], ROUND_ROBIN
        else:
            picked, reason = min(rotation, key=lambda m: m.load), BALANCED  # min keeps the first of equals
    return Choice(picked.user_id, reason, picked.load + amount, picked.capacity)


@dataclass
class Plan:
    """What one pass over the backlog decided: (conversation id, Choice) pairs, and the new pointer."""

    assignments: list
    last_user_id: int | None


def plan_backlog(mode, members: Sequence[Member], waiting: Iterable[Waiting], last_user_id=None, sticky=None):
    """Assign the backlog in order, loads growing as emails are given out; stop at the first nobody can take.

    ``sticky``: partner id -> user id of that customer's last handler (updated as the pass assigns, so two
    emails of one new customer in one batch go to the same member).
    """
    by_user = {m.user_id: m for m in members}
    sticky = dict(sticky or {})
    assignments = []
    for item in backlog_order(waiting):
        amount = weight(item.priority)
        choice = choose(mode, list(by_user.values()), amount, last_user_id, sticky.get(item.partner_id))
        if choice is None:
            break
        by_user[choice.user_id] = replace(by_user[choice.user_id], load=choice.load)
        if choice.reason != STICKY:
            last_user_id = choice.user_id
        if item.partner_id:
            sticky[item.partner_id] = choice.user_id
        assignments.append((item.id, choice))
    return Plan(assignments, last_user_id)
