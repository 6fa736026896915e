"""Incremental, read-only IMAP fetching by UID.

The folder is selected read-only and bodies are fetched with ``BODY.PEEK[]``:
a sync never changes a flag on the server, and mail already read in webmail is
fetched like any other. Progress is a (UIDVALIDITY, last UID) pair per folder,
so the caller can persist it in the same transaction as the messages of a batch.

Round trips are bounded in bytes, not only in messages: sizes are asked first
(``RFC822.SIZE``, cheap), then bodies are fetched in groups under
``limits.MAX_FETCH_BYTES``; an email above ``limits.MAX_MESSAGE_BYTES`` comes with
its headers only (``FetchedMessage.truncated``).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from . import limits
from .connection import imap_connect
from .dedupe import DIGEST_DOMAIN, normalize_message_id

DEFAULT_BATCH_SIZE = 200
#: UIDs whose sizes are asked in one round trip before their bodies are grouped.
SIZE_CHUNK = 1000
FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS", b"RFC822.SIZE"]
HEADER_ITEMS = [f"BODY.PEEK[HEADER]<0.{limits.MAX_HEADER_BYTES}>".encode(), b"INTERNALDATE", b"FLAGS", b"RFC822.SIZE"]


@dataclass
class FetchedMessage:
    """One fetched email; ``truncated`` when it was above the size cap and only its headers are in ``raw``."""

    uid: int
    raw: bytes
    internal_date: datetime | None
    flags: tuple = ()
    size: int | None = None
    truncated: bool = False


@dataclass
class FolderState:
    """What the server says about a folder when we select it."""

    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass
class SyncPlan:
    """UIDs to fetch; ``rescan`` when UIDVALIDITY changed and old UIDs mean nothing anymore.

    ``watermark``: once every UID of ``uids`` is stored, the folder is covered up to this UID,
    so the caller sets ``last_uid = max(last_uid, watermark)``. On a first sync (or a rescan) it
    is the server's highest UID even when the period holds no mail: older mail then never comes
    in later. Until the first scan is complete, the caller passes it back to ``plan``.
    """

    state: FolderState
    uids: list = field(default_factory=list)
    rescan: bool = False
    watermark: int = 0


class ImapFolderReader:
    """Context manager around one authenticated, read-only IMAP session; ``select`` moves it to another folder,
    so a box's folders are all read over one login."""

    def __init__(self, settings, folder="INBOX"):
        self.settings = settings
        self.folder = folder
        self.client = None
        self.state = None
        self._sizes = {}  # UID -> RFC822.SIZE already asked by ``plan`` (saves ``fetch`` that round trip)

    def __enter__(self):
        self.client = imap_connect(self.settings)
        self.client.normalise_times = False  # keep INTERNALDATE's timezone, converted to UTC below
        try:
            self.select(self.folder)
        except Exception:
            self.client.shutdown()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.client.logout_quickly()
        except Exception:  # noqa: BLE001 - closing a session must not hide the sync's outcome
            self.client.shutdown()

    def select(self, folder):
        """EXAMINE ``folder`` (read-only: no flag ever changes) and return its FolderState."""
        info = self.client.select_folder(folder, readonly=True)
        self.folder = folder
        self._sizes = {}
        self.state = FolderState(
            uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
            uidnext=int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
            exists=int(info.get(b"EXISTS", 0)),
        )
        return self.state

    def plan(self, known_uidvalidity, last_uid, since, watermark=0):
        """Decide which UIDs to fetch.

        :param known_uidvalidity: UIDVALIDITY stored at the previous sync, or 0 for a first sync
        :param last_uid: highest UID already stored for that UIDVALIDITY
        :param since: ``date`` of the sync period's start (server-side SEARCH SINCE)
        :param watermark: ``SyncPlan.watermark`` of a first scan (or rescan) that stopped before the
            end (time budget, crash): UIDs up to it are still taken from the period only
        """
        state = self.state
        if known_uidvalidity and state.uidvalidity == known_uidvalidity:
            if watermark > last_uid:
                return self._resume_scan(last_uid, since, watermark)
            if state.uidnext is not None and state.uidnext <= last_uid + 1:
                return SyncPlan(state, watermark=last_uid)  # nothing new: no SEARCH round trip at all
            # The new UIDs and their sizes in one round trip (not SEARCH, then FETCH RFC822.SIZE). ``n:*`` also
            # returns the highest message when it is below n (RFC 3501 §6.4.8): filtered out.
            response = self.client.fetch(f"{last_uid + 1}:*", [b"RFC822.SIZE"]) if state.exists else {}
            self._sizes = {uid: _size(data) for uid, data in response.items() if uid > last_uid}
            uids = sorted(self._sizes)
            return SyncPlan(state, uids, watermark=self._covered(last_uid, uids))
        uids = sorted(self.client.search(["SINCE", since]) if since else self.client.search(["ALL"]))
        top = state.uidnext - 1 if state.uidnext else self._highest_uid()
        return SyncPlan(state, uids, rescan=bool(known_uidvalidity), watermark=self._covered(top, uids))

    def _resume_scan(self, last_uid, since, watermark):
        """An unfinished first scan: the period's UIDs up to ``watermark``, then everything above it."""
        criteria = ["UID", f"{last_uid + 1}:{watermark}"]
        uids = set(self.client.search([*criteria, "SINCE", since] if since else criteria))
        if self.state.uidnext is None or self.state.uidnext > watermark + 1:
            uids.update(self.client.search(["UID", f"{watermark + 1}:*"]))
        uids = sorted(uid for uid in uids if uid > last_uid)
        return SyncPlan(self.state, uids, watermark=self._covered(watermark, uids))

    def _covered(self, floor, uids):
        """Highest UID covered once ``uids`` are stored: UIDs below UIDNEXT that no search returned are gone."""
        top = max([floor, *uids[-1:]])
        if self.state.uidnext:
            top = max(top, self.state.uidnext - 1)
        return top

    def _highest_uid(self):
        """Highest UID in the folder, for servers that do not send UIDNEXT (``UID FETCH * (UID)``)."""
        if not self.state.exists:
            return 0
        return max(self.client.fetch("*", [b"UID"]) or [0])

    def fetch(
        self,
        uids,
        batch_size=DEFAULT_BATCH_SIZE,
        max_bytes=limits.MAX_FETCH_BYTES,
        max_message_bytes=limits.MAX_MESSAGE_BYTES,
    ):
        """Yield lists of FetchedMessage in UID order, one list per round trip.

        Each round trip holds at most ``batch_size`` emails and ``max_bytes`` bytes (by RFC822.SIZE;
        a single email above the budget comes alone); emails above ``max_message_bytes`` come
        with their headers only and ``truncated`` set. Expunged emails are skipped.
        """
        uids = list(uids)
        for start in range(0, len(uids), SIZE_CHUNK):
            chunk = uids[start : start + SIZE_CHUNK]
            if all(uid in self._sizes for uid in chunk):
                sizes = {uid: self._sizes[uid] for uid in chunk}
            else:
                response = self.client.fetch(chunk, [b"RFC822.SIZE"])
                sizes = {uid: _size(data) for uid, data in response.items()}
            present = [(uid, sizes[uid]) for uid in chunk if uid in sizes]
            for group in limits.plan_round_trips(present, max_bytes, batch_size, max_message_bytes):
                batch = self._fetch_group(group, sizes)
                if batch:
                    yield batch

    def _fetch_group(self, group, sizes):
        full = [uid for uid, oversized in group if not oversized]
        heads = [uid for uid, oversized in group if oversized]
        response = {}
        if full:
            response.update(self.client.fetch(full, FETCH_ITEMS))
        if heads:
            response.update(self.client.fetch(heads, HEADER_ITEMS))
        batch = []
        for uid, oversized in group:
            data = response.get(uid)
            if not data:
                continue  # expunged meanwhile
            raw = _header_bytes(data) if oversized else data.get(b"BODY[]")
            batch.append(
                FetchedMessage(
                    uid=uid,
                    raw=raw or b"",
                    internal_date=_naive_utc(data.get(b"INTERNALDATE")),
                    flags=tuple(flag.decode(errors="replace") for flag in data.get(b"FLAGS", ())),
                    size=_size(data) if _size(data) is not None else sizes.get(uid),
                    truncated=oversized,
                )
            )
        return batch


def _size(data):
    try:
        return int(data[b"RFC822.SIZE"])
    except (KeyError, TypeError, ValueError):
        return None


def _header_bytes(data):
    """The header block of a ``BODY.PEEK[HEADER]<0.n>`` answer (servers name the partial key differently)."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER]") and isinstance(value, bytes):
            return value
    return b""


def _naive_utc(value):
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def set_seen(settings, uids, folder="INBOX", uidvalidity=None, message_ids=None):
    """Mark messages read on the server (used when a conversation is assigned); return the UIDs flagged.

    UIDs are only trusted for the UIDVALIDITY they were stored with: when ``uidvalidity`` is given
    and the server's differs (mailbox re-created, migrated), the emails are found again by
    ``message_ids`` (``SEARCH HEADER Message-ID``, each hit checked exactly), and digest keys that
    were never a real Message-ID are skipped. Flagging nothing is better than flagging the wrong email.
    """
    uids = sorted({int(uid) for uid in uids or ()})
    message_ids = [message_id for message_id in message_ids or () if message_id]
    if not uids and not message_ids:
        return []
    client = imap_connect(settings)
    try:
        info = client.select_folder(folder)
        current = int(info.get(b"UIDVALIDITY", 0))
        if uidvalidity and int(uidvalidity) != current:
            uids = _find_by_message_id(client, message_ids)
        if uids:
            client.add_flags(uids, [b"\\Seen"], silent=True)
        return uids
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the flags are already stored
            client.shutdown()


def _find_by_message_id(client, message_ids):
    """UIDs of the emails whose Message-ID is exactly one of ``message_ids`` (HEADER search is a substring match)."""
    wanted = {normalize_message_id(message_id) for message_id in message_ids}
    wanted = {mid for mid in wanted if mid and not mid.endswith(f"@{DIGEST_DOMAIN}>")}
    found = set()
    for message_id in sorted(wanted):
        charset = None if message_id.isascii() else "UTF-8"
        found.update(client.search(["HEADER", "Message-ID", message_id], charset=charset))
    if not found:
        return []
    response = client.fetch(sorted(found), [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    uids = []
    for uid, data in response.items():
        header = next((value for key, value in data.items() if key.startswith(b"BODY[HEADER.FIELDS")), b"") or b""
        text = header.decode("utf-8", "replace").partition(":")[2]
        if normalize_message_id(text) in wanted:
            uids.append(uid)
    return sorted(uids)


def period_start(period, today):
    """First day of the sync period: today, or 7 days back."""
    if period == "week":
        return date.fromordinal(today.toordinal() - 7)
    return today
