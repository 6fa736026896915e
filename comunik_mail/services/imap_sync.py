"""Incremental, read-only IMAP fetching by UID.

The folder is selected read-only and bodies are fetched with ``BODY.PEEK[]``:
a sync never changes a flag on the server, and mail already read in webmail is
fetched like any other. Progress is a (UIDVALIDITY, last UID) pair per folder,
so the caller can persist it in the same transaction as the messages of a batch.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .connection import imap_connect

DEFAULT_BATCH_SIZE = 200
FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS", b"RFC822.SIZE"]


@dataclass
class FetchedMessage:
    uid: int
    raw: bytes
    internal_date: datetime | None
    flags: tuple = ()


@dataclass
class FolderState:
    """What the server says about a folder when we select it."""

    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass
class SyncPlan:
    """UIDs to fetch; ``rescan`` when UIDVALIDITY changed and old UIDs mean nothing anymore."""

    state: FolderState
    uids: list = field(default_factory=list)
    rescan: bool = False


class ImapFolderReader:
    """Context manager around one authenticated, read-only IMAP session on one folder."""

    def __init__(self, settings, folder="INBOX"):
        self.settings = settings
        self.folder = folder
        self.client = None
        self.state = None

    def __enter__(self):
        self.client = imap_connect(self.settings)
        self.client.normalise_times = False  # keep INTERNALDATE's timezone, converted to UTC below
        try:
            info = self.client.select_folder(self.folder, readonly=True)
        except Exception:
            self.client.shutdown()
            raise
        self.state = FolderState(
            uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
            uidnext=int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
            exists=int(info.get(b"EXISTS", 0)),
        )
        return self

    def __exit__(self, *exc):
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 - closing a session must not hide the sync's outcome
            self.client.shutdown()

    def plan(self, known_uidvalidity, last_uid, since):
        """Decide which UIDs to fetch.

        :param known_uidvalidity: UIDVALIDITY stored at the previous sync, or 0 for a first sync
        :param last_uid: highest UID already stored for that UIDVALIDITY
        :param since: ``date`` of the sync period's start (server-side SEARCH SINCE)
        """
        state = self.state
        if known_uidvalidity and state.uidvalidity == known_uidvalidity:
            if state.uidnext is not None and state.uidnext <= last_uid + 1:
                return SyncPlan(state)  # nothing new: no SEARCH round trip at all
            uids = self.client.search(["UID", f"{last_uid + 1}:*"])
            return SyncPlan(state, sorted(uid for uid in uids if uid > last_uid))
        uids = self.client.search(["SINCE", since]) if since else self.client.search(["ALL"])
        return SyncPlan(state, sorted(uids), rescan=bool(known_uidvalidity))

    def fetch(self, uids, batch_size=DEFAULT_BATCH_SIZE):
        """Yield lists of FetchedMessage, ``batch_size`` messages per round trip, in UID order."""
        for start in range(0, len(uids), batch_size):
            chunk = uids[start : start + batch_size]
            response = self.client.fetch(chunk, FETCH_ITEMS)
            batch = []
            for uid in chunk:
                data = response.get(uid)
                if not data:
                    continue  # expunged meanwhile
                raw = data.get(b"BODY[]") or b""
                batch.append(
                    FetchedMessage(
                        uid=uid,
                        raw=raw,
                        internal_date=_naive_utc(data.get(b"INTERNALDATE")),
                        flags=tuple(flag.decode(errors="replace") for flag in data.get(b"FLAGS", ())),
                    )
                )
            yield batch


def _naive_utc(value):
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def set_seen(settings, uids, folder="INBOX"):
    """Mark messages read on the server (used when a conversation is assigned)."""
    if not uids:
        return
    client = imap_connect(settings)
    try:
        client.select_folder(folder)
        client.add_flags(sorted(uids), [b"\\Seen"], silent=True)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the flags are already stored
            client.shutdown()


def period_start(period, today):
    """First day of the sync period: today, or 7 days back."""
    if period == "week":
        return date.fromordinal(today.toordinal() - 7)
    return today
