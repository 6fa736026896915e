"""services/imap_folders.py: LIST with special-use on a real Dovecot, the Sent folder by attribute or name, APPEND."""

import uuid
from datetime import UTC, datetime

import pytest

from comunik_mail.services import connection, imap_folders, imap_sync
from comunik_mail.services.imap_folders import FolderInfo
from comunik_support import poison

from .conftest import servers


@pytest.fixture
def mailbox(real_servers):
    dovecot, _smtp = real_servers
    login = f"folders-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-123")
    return login


def settings(login):
    return connection.ServerSettings(servers.HOST, servers.IMAPS_PORT, "ssl", login, "pw-123", 10)


# ---------------------------------------------------------------- against Dovecot


def test_list_shows_special_use_and_custom_folders_inbox_first(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.create_folder(mailbox, "Factures")
    dovecot.create_folder(mailbox, "Clients/Éléments à traiter")
    folders = imap_folders.fetch_folders(settings(mailbox))
    names = [f.name for f in folders]
    assert names[0] == "INBOX"
    assert {"Sent", "Drafts", "Junk", "Trash", "Factures", "Clients/Éléments à traiter"} <= set(names)
    by_name = {f.name: f for f in folders}
    assert by_name["Sent"].special_use == "\\Sent"
    assert by_name["Junk"].special_use == "\\Junk" and by_name["Junk"].excluded_by_default
    assert by_name["Trash"].excluded_by_default
    assert by_name["Factures"].special_use is None and not by_name["Factures"].excluded_by_default
    assert by_name["INBOX"].default_synced and not by_name["Factures"].default_synced
    assert by_name["Clients/Éléments à traiter"].delimiter == "/"
    assert imap_folders.find_sent_folder(folders).name == "Sent"


def test_append_sent_is_seen_and_readable_by_the_sync(real_servers, mailbox):
    dovecot, _smtp = real_servers
    raw = poison.normal_email(1)
    when = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    folder, uid = imap_folders.append_sent(settings(mailbox), raw, when=when)
    assert folder == "Sent" and uid == 1
    stored = dovecot.messages(mailbox, "Sent")
    assert stored[uid][0] == ("\\Seen",)
    assert stored[uid][1].replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    with imap_sync.ImapFolderReader(settings(mailbox), "Sent") as reader:
        plan = reader.plan(0, 0, None)
        [batch] = list(reader.fetch(plan.uids))
    assert batch[0].internal_date == when.replace(tzinfo=None)


def test_append_to_an_accented_folder_name(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.create_folder(mailbox, "Éléments envoyés")
    folder, uid = imap_folders.append_sent(settings(mailbox), poison.normal_email(2), folder="Éléments envoyés")
    assert (folder, uid) == ("Éléments envoyés", 1)
    assert dovecot.count(mailbox, "Éléments envoyés") == 1


def test_reader_reuses_one_session_across_folders(real_servers, mailbox):
    dovecot, _smtp = real_servers
    dovecot.append(mailbox, poison.normal_email(3))
    dovecot.append(mailbox, poison.normal_email(4), folder="Sent")
    dovecot.append(mailbox, poison.normal_email(5), folder="Sent")
    with imap_sync.ImapFolderReader(settings(mailbox), "INBOX") as reader:
        assert reader.state.exists == 1
        state = reader.select("Sent")
        assert state.exists == 2 and reader.folder == "Sent"
        assert len(reader.plan(0, 0, None).uids) == 2


def test_missing_folder_raises_and_session_stays_usable(real_servers, mailbox):
    with imap_sync.ImapFolderReader(settings(mailbox), "INBOX") as reader:
        with pytest.raises(Exception):  # noqa: B017 - imapclient raises its protocol error class
            reader.select("Dossier supprimé")
        assert reader.select("INBOX").exists == 0


# ---------------------------------------------------------------- pure decisions


def info(name, flags=(), delimiter="/"):
    return FolderInfo(name, delimiter, flags, imap_folders.guess_special_use(name, delimiter, flags))


@pytest.mark.parametrize(
    "name,delimiter",
    [
        ("Envoyés", "/"),
        ("Éléments envoyés", "/"),
        ("Sent Items", "/"),
        ("INBOX.Sent", "."),
        ("[Gmail]/Sent Mail", "/"),
        ("sent", "/"),
    ],
)
def test_sent_found_by_name_without_special_use(name, delimiter):
    folders = [info("INBOX"), info("Archives"), info(name, delimiter=delimiter)]
    assert imap_folders.find_sent_folder(folders).name == name


def test_special_use_wins_over_a_usual_name():
    folders = [info("INBOX"), info("Sent"), info("Mes envois", flags=("\\HasNoChildren", "\\Sent"))]
    assert imap_folders.find_sent_folder(folders).name == "Mes envois"


def test_no_sent_folder_and_noselect_parent_is_not_chosen():
    assert imap_folders.find_sent_folder([info("INBOX"), info("Factures")]) is None
    parent = info("Sent", flags=("\\Noselect", "\\HasChildren"))
    assert not parent.selectable
    assert imap_folders.find_sent_folder([info("INBOX"), parent]) is None


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Junk", "\\Junk"),
        ("Spam", "\\Junk"),
        ("Courrier indésirable", "\\Junk"),
        ("Corbeille", "\\Trash"),
        ("Deleted Items", "\\Trash"),
        ("Brouillons", "\\Drafts"),
        ("Factures", None),
    ],
)
def test_usual_names_of_junk_trash_drafts(name, expected):
    folder = info(name)
    assert folder.special_use == expected
    assert folder.excluded_by_default == (expected is not None)


def test_gmail_all_mail_is_excluded_by_default():
    folder = info("[Gmail]/Tous les messages", flags=("\\All", "\\HasNoChildren"))
    assert folder.special_use == "\\All" and folder.excluded_by_default


@pytest.mark.parametrize(
    "response,uid",
    [(b"[APPENDUID 1700000000 42] Append completed.", 42), (b"Append completed.", None), (None, None)],
)
def test_appended_uid(response, uid):
    assert imap_folders.appended_uid(response) == uid


def test_modified_utf7_of_the_test_server():
    assert servers._utf7("Éléments envoyés") == "&AMk-l&AOk-ments envoy&AOk-s"
    assert servers._utf7("R&D") == "R&-D"
    assert servers._utf7("INBOX") == "INBOX"
