"""The folders of a mailbox: which exist (LIST with special-use), which one is Sent, and APPEND to it.

Folder names are handled decoded (imapclient encodes and decodes IMAP's modified UTF-7), so
« Éléments envoyés » is stored and shown as such and sent back to the server encoded.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .connection import imap_connect

#: RFC 6154 special-use attributes, as the server sends them.
SPECIAL_USES = ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash")
#: Folders that are never synced as incoming mail unless chosen: spam, bin, drafts, and Gmail's
#: « All Mail » / starred views, which repeat the other folders' emails.
EXCLUDED_BY_DEFAULT = {"\\Junk", "\\Trash", "\\Drafts", "\\All", "\\Flagged"}
#: Sent folders of servers without SPECIAL-USE, by name (compared case-insensitively, any parent).
SENT_NAMES = (
    "Sent",
    "Envoyés",
    "Éléments envoyés",
    "Messages envoyés",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "[Gmail]/Sent Mail",
)
#: Junk and Trash of servers without SPECIAL-USE, by name: excluded by default too.
JUNK_NAMES = ("Junk", "Spam", "Junk E-mail", "Courrier indésirable", "Indésirables", "Pourriel")
TRASH_NAMES = ("Trash", "Corbeille", "Deleted Items", "Deleted Messages", "Éléments supprimés", "Bin")
DRAFTS_NAMES = ("Drafts", "Brouillons")


@dataclass
class FolderInfo:
    """One folder as LIST describes it."""

    name: str  # decoded, full path (e.g. "INBOX/Factures")
    delimiter: str | None
    flags: tuple
    special_use: str | None  # one of SPECIAL_USES, from the server or guessed from the name

    @property
    def selectable(self):
        return not {"\\noselect", "\\nonexistent"} & {flag.lower() for flag in self.flags}

    @property
    def is_inbox(self):
        return self.name.upper() == "INBOX"

    @property
    def excluded_by_default(self):
        return self.special_use in EXCLUDED_BY_DEFAULT

    @property
    def default_synced(self):
        """Only INBOX is synced as incoming mail until someone chooses more."""
        return self.is_inbox


def _leaf(name, delimiter):
    return name.rsplit(delimiter, 1)[-1] if delimiter else name


def _named(name, delimiter, names):
    wanted = {n.casefold() for n in names}
    return name.casefold() in wanted or _leaf(name, delimiter).casefold() in wanted


def guess_special_use(name, delimiter, flags=()):
    """The folder's special use: the server's attribute, else one guessed from its usual names."""
    for flag in flags:
        for special in SPECIAL_USES:
            if flag.lower() == special.lower():
                return special
    if _named(name, delimiter, SENT_NAMES):
        return "\\Sent"
    if _named(name, delimiter, JUNK_NAMES):
        return "\\Junk"
    if _named(name, delimiter, TRASH_NAMES):
        return "\\Trash"
    if _named(name, delimiter, DRAFTS_NAMES):
        return "\\Drafts"
    return None


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def list_folders(client):
    """Every folder of the mailbox (LIST "" "*"), INBOX first, then by name."""
    folders = []
    for flags, delimiter, name in client.list_folders():
        flags = tuple(_text(flag) for flag in flags)
        delimiter = _text(delimiter) if delimiter else None
        name = _text(name)
        folders.append(FolderInfo(name, delimiter, flags, guess_special_use(name, delimiter, flags)))
    folders.sort(key=lambda f: (not f.is_inbox, f.name.casefold()))
    return folders


def find_sent_folder(folders):
    """The Sent folder: the one the server marks ``\\Sent``, else the first with a usual name."""
    selectable = [f for f in folders if f.selectable]
    for folder in selectable:
        if any(flag.lower() == "\\sent" for flag in folder.flags):
            return folder
    for wanted in SENT_NAMES:
        for folder in selectable:
            if folder.name.casefold() == wanted.casefold():
                return folder
    for wanted in SENT_NAMES:
        for folder in selectable:
            if _leaf(folder.name, folder.delimiter).casefold() == wanted.casefold():
                return folder
    return None


def fetch_folders(settings):
    """Log in, LIST, log out."""
    client = imap_connect(settings)
    try:
        return list_folders(client)
    finally:
        _logout(client)


def append_sent(settings, raw, folder=None, when=None):
    """APPEND ``raw`` to the Sent folder (``folder``, else found by LIST) flagged ``\\Seen``.

    :return: (folder name, new UID or None when the server does not say)
    :raises LookupError: the mailbox has no Sent folder
    """
    client = imap_connect(settings)
    try:
        if not folder:
            sent = find_sent_folder(list_folders(client))
            if not sent:
                raise LookupError("no Sent folder")
            folder = sent.name
        when = when or datetime.now(UTC)
        response = client.append(folder, raw, flags=[b"\\Seen"], msg_time=when)
        return folder, appended_uid(response)
    finally:
        _logout(client)


def appended_uid(response):
    """The UID of an APPEND answer (``[APPENDUID <validity> <uid>]``, UIDPLUS), or None."""
    text = _text(response or b"")
    match = re.search(r"\[APPENDUID \d+ (\d+)\]", text)
    return int(match.group(1)) if match else None


def _logout(client):
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the work is done
        client.shutdown()
