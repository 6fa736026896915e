import base64
import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from comunik_mail.services import mime

DATE = "Tue, 04 Mar 2025 10:15:00 +0100"
DATE_UTC = datetime(2025, 3, 4, 9, 15)
FALLBACK = datetime(2025, 3, 5, 8, 0)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def crlf(text, encoding="ascii"):
    """Literal test messages are written with \\n; IMAP serves CRLF."""
    return text.replace("\n", "\r\n").encode(encoding)


def new_message(subject="Relance facture", body=None):
    message = EmailMessage()
    message["From"] = "Zoé Lefèvre <Zoe.Lefevre@Exemple.FR>"
    message["To"] = "contact@comunik.fr"
    message["Subject"] = subject
    message["Date"] = DATE
    message["Message-ID"] = "<relance-42@exemple.fr>"
    if body is not None:
        message.set_content(body)
    return message


def by_name(parsed):
    return {attachment.filename: attachment for attachment in parsed.attachments}


# ---------------------------------------------------------------------------- bodies and headers


def test_plain_text_utf8_with_accents():
    body = "Bonjour,\n\nLa facture de février est échue : merci de régler 120 € (< 30 jours).\n\nZoé"
    parsed = mime.parse_message(new_message(subject="Relance : facture échue", body=body).as_bytes())
    assert parsed.subject == "Relance : facture échue"
    assert (parsed.from_name, parsed.from_email) == ("Zoé Lefèvre", "zoe.lefevre@exemple.fr")
    assert parsed.to == [("", "contact@comunik.fr")]
    assert parsed.message_id == "<relance-42@exemple.fr>" and not parsed.message_id_is_digest
    assert parsed.date == DATE_UTC and parsed.date.tzinfo is None
    assert parsed.body_text.rstrip("\n") == body
    assert parsed.body_html.startswith("<div") and "120 € (&lt; 30 jours)." in parsed.body_html
    assert "Bonjour,<br/><br/>La facture" in parsed.body_html
    assert parsed.attachments == [] and parsed.warnings == []


def test_latin1_body_and_q_encoded_subject():
    raw = crlf(
        "From: =?iso-8859-1?Q?Fran=E7ois_B=E9rard?= <francois@exemple.fr>\n"
        "Subject: =?iso-8859-1?Q?R=E9union?= de chantier\n"
        f"Date: {DATE}\n"
        "Message-ID: <chantier@exemple.fr>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=ISO-8859-1\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "BODY\n"
    ).replace(b"BODY", "Réunion déplacée à 14h, salle Hélène.".encode("latin-1"))
    parsed = mime.parse_message(raw)
    assert parsed.subject == "Réunion de chantier"
    assert parsed.from_name == "François Bérard"
    assert parsed.body_text.strip() == "Réunion déplacée à 14h, salle Hélène."
    assert parsed.warnings == []


def test_latin1_label_written_on_windows_is_cp1252():
    raw = crlf("Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n\n") + b"L\x92offre \xe0 99 \x80"
    parsed = mime.parse_message(raw)
    assert parsed.body_text == "L\u2019offre à 99 €"
    assert parsed.warnings == ["no-date"]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("=?iso-8859-1?Q?R=E9union?=", "Réunion"),
        ("=?utf-8?B?" + base64.b64encode("Compte rendu – réunion".encode()).decode() + "?=", "Compte rendu – réunion"),
        ("=?utf-8?Q?Devis_n=C2=B0?=\n =?utf-8?Q?_42?= (urgent)", "Devis n° 42 (urgent)"),
        ("Re: =?UTF-8?q?=C3=A9ch=C3=A9ance?=\n\t pass\u00e9e", "Re: échéance passée"),
        ("   ", ""),
    ],
)
def test_encoded_subjects(header, expected):
    raw = b"Subject: " + header.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\nx\r\n"
    assert mime.parse_message(raw).subject == expected


def test_alternative_prefers_html_and_keeps_text():
    message = new_message(body="Bonjour Léa,\nle devis est prêt.")
    html = '<p>Bonjour <b>Léa</b>,</p><p>le devis est <a href="https://exemple.fr/devis">prêt</a>.</p>'
    message.add_alternative(html, subtype="html")
    parsed = mime.parse_message(message.as_bytes())
    assert parsed.body_html.strip() == html
    assert parsed.body_text.strip() == "Bonjour Léa,\nle devis est prêt."
    assert parsed.attachments == []


def test_html_only_has_no_text_and_charset_from_meta():
    html = '<html><head><meta charset="windows-1252"></head><body>Co\xfbt : 10 \x80</body></html>'
    raw = crlf("Subject: meta\nContent-Type: text/html\n\n") + html.encode("latin-1")
    parsed = mime.parse_message(raw)
    assert "Coût : 10 €" in parsed.body_html
    assert parsed.body_text == ""


def test_mixed_with_rfc2231_pdf_filename():
    raw = crlf(
        "From: compta@exemple.fr\n"
        "Subject: Votre facture\n"
        f"Date: {DATE}\n"
        "Message-ID: <facture-1@exemple.fr>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="=_sep"\n\n'
        "Ceci est un message MIME.\n"
        "--=_sep\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Veuillez trouver la facture ci-jointe.\n"
        "--=_sep\n"
        "Content-Type: Application/PDF\n"
        "Content-Disposition: attachment; filename*=utf-8''facture%20n%C2%B01.pdf\n"
        "Content-Transfer-Encoding: base64\n\n"
        f"{base64.encodebytes(PDF).decode()}"
        "--=_sep--\n"
    )
    parsed = mime.parse_message(raw)
    assert parsed.body_text.strip() == "Veuillez trouver la facture ci-jointe."
    [attachment] = parsed.attachments
    assert attachment.filename == "facture n°1.pdf"
    assert attachment.mimetype == "application/pdf"
    assert attachment.content == PDF
    assert not attachment.inline and attachment.content_id is None
    assert parsed.warnings == []


def test_related_inline_image_by_cid():
    message = new_message(body="Voir notre logo.")
    message.add_alternative('<p>Voir notre logo <img src="cid:logo.123@comunik"></p>', subtype="html")
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<logo.123@comunik>")
    parsed = mime.parse_message(message.as_bytes())
    assert 'src="cid:logo.123@comunik"' in parsed.body_html
    assert parsed.body_text.strip() == "Voir notre logo."
    [image] = parsed.attachments
    assert (image.content_id, image.inline, image.mimetype) == ("logo.123@comunik", True, "image/png")
    assert image.filename == "piece-jointe-1.png"
    assert image.content == PNG


def test_nested_mixed_related_alternative_keeps_everything():
    message = new_message(body="Texte brut")
    message.add_alternative('<p>Texte <img src="cid:photo@x"></p>', subtype="html")
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<photo@x>", filename="photo.png")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="devis.pdf")
    message.add_attachment(b"nom;montant\nA;1\n", maintype="text", subtype="csv", filename="export.csv")
    parsed = mime.parse_message(message.as_bytes())
    structure = [part.get_content_type() for part in message.walk()]
    assert structure[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"]
    assert "<p>Texte" in parsed.body_html and parsed.body_text.strip() == "Texte brut"
    files = by_name(parsed)
    assert set(files) == {"photo.png", "devis.pdf", "export.csv"}
    assert files["photo.png"].inline and files["photo.png"].content_id == "photo@x"
    assert files["devis.pdf"].content == PDF and not files["devis.pdf"].inline
    assert files["export.csv"].content.replace(b"\r\n", b"\n") == b"nom;montant\nA;1\n"


def test_calendar_alternative_is_kept_as_attachment():
    message = new_message(body="Invitation : point hebdo")
    message.add_alternative("<p>Invitation : point hebdo</p>", subtype="html")
    message.add_alternative("BEGIN:VCALENDAR\nEND:VCALENDAR\n", subtype="calendar")
    parsed = mime.parse_message(message.as_bytes())
    assert parsed.body_html.strip() == "<p>Invitation : point hebdo</p>"
    [invite] = parsed.attachments
    assert invite.mimetype == "text/calendar" and invite.filename == "piece-jointe-1.ics"
    assert b"BEGIN:VCALENDAR" in invite.content


def test_attached_message_rfc822():
    inner = new_message(subject="Devis signé / v2", body="Le devis signé est en pièce jointe.")
    outer = new_message(subject="Fwd: Devis signé", body="Pour info.")
    outer.add_attachment(inner)
    anonymous = new_message(body="sans sujet")
    del anonymous["Subject"]
    outer.add_attachment(anonymous)
    parsed = mime.parse_message(outer.as_bytes())
    assert parsed.body_text.strip() == "Pour info."
    first, second = parsed.attachments
    assert (first.filename, first.mimetype) == ("Devis signé - v2.eml", "message/rfc822")
    assert second.filename == "message-joint.eml"
    embedded = mime.parse_message(first.content)
    assert embedded.subject == "Devis signé / v2"
    assert embedded.body_text.strip() == "Le devis signé est en pièce jointe."


def test_attached_message_in_base64_is_decoded():
    inner = crlf("Subject: =?utf-8?Q?Facture_d=C3=A9cembre?=\nFrom: compta@exemple.fr\n\nCorps interne\n")
    raw = crlf(
        'Subject: Fwd\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nvoir\n'
        "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        f"{base64.encodebytes(inner).decode()}--b--\n"
    )
    [attachment] = mime.parse_message(raw).attachments
    assert (attachment.filename, attachment.content) == ("Facture décembre.eml", inner)


def test_bounce_report_parts_are_kept():
    raw = crlf(
        'Subject: Undelivered Mail\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nAdresse introuvable.\n"
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.exemple.fr\n\n"
        "Final-Recipient: rfc822; absent@exemple.fr\nStatus: 5.1.1\n\n"
        "--r\nContent-Type: text/rfc822-headers\n\nSubject: Devis\nFrom: contact@comunik.fr\n\n--r--\n"
    )
    parsed = mime.parse_message(raw)
    assert parsed.body_text.strip() == "Adresse introuvable."
    status, headers = parsed.attachments
    assert (status.filename, status.mimetype) == ("piece-jointe-1.txt", "message/delivery-status")
    assert b"Status: 5.1.1" in status.content and b"Reporting-MTA: dns; mx.exemple.fr" in status.content
    assert (headers.filename, headers.mimetype) == ("piece-jointe-2.txt", "text/rfc822-headers")


def test_encoded_word_and_path_filenames():
    encoded = base64.b64encode("relevé de compte.pdf".encode()).decode()
    raw = crlf(
        'Subject: pj\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nx\n'
        f'--b\nContent-Type: application/pdf; name="=?utf-8?B?{encoded}?="\n\n%PDF\n'
        '--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="C:\\Temp\\devis.pdf"\n\n%PDF\n'
        "--b--\n"
    )
    assert [a.filename for a in mime.parse_message(raw).attachments] == ["relevé de compte.pdf", "devis.pdf"]


def test_winmail_dat_is_kept_as_is():
    tnef = b"\x78\x9f\x3e\x22" + os.urandom(500)
    message = new_message(body="Message Outlook")
    message.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    [attachment] = mime.parse_message(message.as_bytes()).attachments
    assert (attachment.filename, attachment.mimetype, attachment.content) == (
        "winmail.dat",
        "application/ms-tnef",
        tnef,
    )


def test_large_attachment_is_fast_and_intact():
    data = os.urandom(12 * 1024 * 1024)
    message = new_message(body="Plans du chantier")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename="plans.dwg")
    raw = message.as_bytes()
    start = time.perf_counter()
    parsed = mime.parse_message(raw)
    elapsed = time.perf_counter() - start
    [attachment] = parsed.attachments
    assert len(attachment.content) == len(data) and attachment.content == data
    assert elapsed < 5, f"12 MB attachment parsed in {elapsed:.2f} s"


def test_broken_base64_attachment_is_kept_with_warning():
    encoded = base64.encodebytes(PDF).decode()
    raw = crlf(
        "Subject: pj abimee\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\ncorps\n"
        '--b\nContent-Type: application/pdf; name="abime.pdf"\nContent-Transfer-Encoding: base64\n\n'
        f"{encoded[:-6]}!!*\n"
        "--b--\n"
    )
    parsed = mime.parse_message(raw)
    [attachment] = parsed.attachments
    assert attachment.filename == "abime.pdf" and attachment.content.startswith(b"%PDF-1.4")
    assert "bad-attachment:abime.pdf" in parsed.warnings


def test_attachment_without_transfer_encoding_header():
    body = base64.encodebytes(PNG * 4).decode()
    raw = crlf(
        'Subject: pj\nContent-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\ncorps\n"
        f'--b\nContent-Type: image/png; name="plan.png"\n\n{body}'
        '--b\nContent-Type: application/octet-stream; name="note.pdf"\nContent-Transfer-Encoding: Base64 \n\n'
        f"{base64.encodebytes(PDF).decode()}"
        "--b--\n"
    )
    parsed = mime.parse_message(raw)
    files = by_name(parsed)
    assert files["plan.png"].content == PNG * 4
    assert "bad-attachment:plan.png" in parsed.warnings
    assert files["note.pdf"].content == PDF  # " Base64 " still decoded
    assert files["note.pdf"].mimetype == "application/pdf"  # octet-stream refined from the name


# ---------------------------------------------------------------------------- identity, dates, threading


def test_missing_message_id_uses_stable_digest():
    message = new_message(body="Pas d'identifiant")
    del message["Message-ID"]
    raw = message.as_bytes()
    first, second = mime.parse_message(raw), mime.parse_message(raw)
    assert first.message_id == second.message_id == mime.message_digest(raw)
    assert first.message_id_is_digest
    assert re.fullmatch(r"<[0-9a-f]{32}@comunik\.invalid>", first.message_id)
    assert mime.parse_message(raw + b"\r\n").message_id != first.message_id
    assert mime.message_digest(b"\x00\xff") == mime.parse_message(b"\x00\xff").message_id


def test_bare_message_id_gets_brackets():
    parsed = mime.parse_message(b"Message-ID: abc.123@exemple.fr\r\nSubject: x\r\n\r\nx\r\n")
    assert parsed.message_id == "<abc.123@exemple.fr>" and not parsed.message_id_is_digest


@pytest.mark.parametrize("date_header", [None, "demain matin", "Mon, 99 Foo 2025 99:99:99 +9999"])
def test_missing_or_bad_date_uses_fallback(date_header):
    message = new_message(body="x")
    del message["Date"]
    if date_header:
        message["Date"] = date_header
    parsed = mime.parse_message(message.as_bytes(), fallback_date=FALLBACK)
    assert parsed.date == FALLBACK
    assert "no-date" in parsed.warnings
    aware = datetime(2025, 3, 5, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert mime.parse_message(message.as_bytes(), fallback_date=aware).date == FALLBACK
    assert mime.parse_message(message.as_bytes()).date is None


def test_date_converted_to_naive_utc():
    for header, expected in [
        ("Sun, 30 Mar 2025 23:30:00 -0400", datetime(2025, 3, 31, 3, 30)),
        ("30 Mar 2025 02:30:00 +0200 (CEST)", datetime(2025, 3, 30, 0, 30)),
        ("Sun, 30 Mar 2025 10:00:00 -0000", datetime(2025, 3, 30, 10, 0)),
    ]:
        parsed = mime.parse_message(f"Date: {header}\r\nSubject: x\r\n\r\nx\r\n".encode())
        assert parsed.date == expected and "no-date" not in parsed.warnings


def test_references_and_in_reply_to():
    raw = crlf(
        "Subject: Re: Re: planning\n"
        "In-Reply-To: <msg-3@exemple.fr> (message de Jean)\n"
        "References: <msg-1@exemple.fr>\n <msg-2@exemple.fr>\t<msg-3@exemple.fr>\n"
        "Message-ID: <msg-4@exemple.fr>\n\nOK pour moi.\n"
    )
    parsed = mime.parse_message(raw)
    assert parsed.in_reply_to == "<msg-3@exemple.fr>"
    assert parsed.references == ["<msg-1@exemple.fr>", "<msg-2@exemple.fr>", "<msg-3@exemple.fr>"]
    assert parsed.message_id == "<msg-4@exemple.fr>"
    none = mime.parse_message(b"Subject: x\r\n\r\nx\r\n")
    assert none.in_reply_to is None and none.references == []


# ---------------------------------------------------------------------------- addresses and routing headers


def test_to_and_cc_addresses():
    raw = crlf(
        'From: "Service client" <SAV@Exemple.FR>\n'
        'To: "Dupont, Jean" <Jean.Dupont@Exemple.fr>, =?utf-8?Q?L=C3=A9a_Martin?= <LEA@exemple.fr>,\n'
        " pas-une-adresse, <>, paul@\n"
        "Cc: bob@EXEMPLE.com, Zo\xe9 <zoe@exemple.fr>\n"
        "Reply-To: =?utf-8?Q?Support_r=C3=A9seau?= <support@exemple.fr>\n"
        "Delivered-To: contact@comunik.fr\n"
        "Delivered-To: boite@comunik.fr\n"
        "Auto-Submitted: auto-replied\n"
        "X-Priority: 1 (Highest)\n"
        "List-Id: Chantiers <chantiers.exemple.fr>\n"
        "Subject: x\n\nx\n",
        "latin-1",
    )
    parsed = mime.parse_message(raw)
    assert (parsed.from_name, parsed.from_email) == ("Service client", "sav@exemple.fr")
    assert parsed.to == [("Dupont, Jean", "jean.dupont@exemple.fr"), ("Léa Martin", "lea@exemple.fr")]
    assert parsed.cc == [("", "bob@exemple.com"), ("Zoé", "zoe@exemple.fr")]
    assert parsed.reply_to == "Support réseau <support@exemple.fr>"
    assert parsed.headers["delivered-to"] == "contact@comunik.fr, boite@comunik.fr"
    assert parsed.headers["auto-submitted"] == "auto-replied"
    assert parsed.headers["x-priority"] == "1 (Highest)"
    assert parsed.headers["list-id"] == "Chantiers <chantiers.exemple.fr>"
    assert "Léa Martin <LEA@exemple.fr>" in parsed.headers["to"]


def test_routing_headers_always_present():
    parsed = mime.parse_message(b"Subject: x\r\n\r\nx\r\n")
    assert parsed.headers == dict.fromkeys(mime.ROUTING_HEADERS, "")


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"Martin, Léa" <Lea.Martin@Exemple.fr>', [("Martin, Léa", "lea.martin@exemple.fr")]),
        ("a@x.fr, B@X.FR", [("", "a@x.fr"), ("", "b@x.fr")]),
        ("Jean Dupont jean@exemple.fr", [("", "jean@exemple.fr")]),
        ("pas une adresse", []),
        ("", []),
        (None, []),
        ("<<<@@@>>>,,,;;", []),
    ],
)
def test_addresses(value, expected):
    assert mime.addresses(value) == expected


def test_unparseable_sender_keeps_its_text():
    parsed = mime.parse_message(b"From: Accueil mairie\r\nSubject: x\r\n\r\nx\r\n")
    assert (parsed.from_name, parsed.from_email) == ("Accueil mairie", "")


# ---------------------------------------------------------------------------- charsets


@pytest.mark.parametrize("charset", ["x-unknown", "utf8mb4", "cp-850"])
def test_unknown_charset_falls_back(charset):
    raw = crlf(f"Subject: x\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit\n\n")
    parsed = mime.parse_message(raw + "Réunion à 9h".encode())
    assert parsed.body_text == "Réunion à 9h"
    assert f"bad-charset:{charset}" in parsed.warnings


def test_unknown_charset_in_encoded_word():
    parsed = mime.parse_message(b"Subject: =?x-inconnu?Q?Caf=C3=A9?= du matin\r\n\r\nx\r\n")
    assert parsed.subject == "Café du matin"
    assert "bad-charset:x-inconnu" in parsed.warnings


def test_8bit_raw_headers():
    raw = (
        "Subject: Réunion budgétaire\r\n".encode()
        + "From: François Bérard <francois@exemple.fr>\r\n".encode("latin-1")
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: text/plain\r\n\r\ncorps\r\n"
        + b"--b\r\nContent-Type: application/pdf\r\n"
        + 'Content-Disposition: attachment; filename="reçu été.pdf"\r\n\r\n'.encode()
        + PDF.replace(b"\n", b"\r\n")
        + b"\r\n--b--\r\n"
    )
    parsed = mime.parse_message(raw)
    assert parsed.subject == "Réunion budgétaire"
    assert (parsed.from_name, parsed.from_email) == ("François Bérard", "francois@exemple.fr")
    [attachment] = parsed.attachments
    assert attachment.filename == "reçu été.pdf"


def test_declared_utf8_with_invalid_bytes_is_replaced_not_raised():
    raw = crlf("Subject: x\nContent-Type: text/plain; charset=utf-8\n\n") + b"caf\xe9 cr\xc3\xa8me"
    parsed = mime.parse_message(raw)
    assert parsed.body_text == "caf\ufffd crème"
    assert "decode-errors:utf-8" in parsed.warnings


def test_nul_characters_are_removed():
    parsed = mime.parse_message(b"Subject: a\x00b\r\nContent-Type: text/plain\r\n\r\nun\x00deux\r\n")
    assert parsed.subject == "ab" and parsed.body_text.strip() == "undeux"
    assert "\x00" not in parsed.body_html


# ---------------------------------------------------------------------------- never raise, never lose


def test_not_an_email_keeps_raw_source():
    raw = b"\x00\xff not an email at all"
    parsed = mime.parse_message(raw)
    assert "unparseable" in parsed.warnings
    assert [(a.filename, a.mimetype, a.content) for a in parsed.attachments] == [
        ("message-original.eml", "message/rfc822", raw)
    ]


def test_truncated_multipart_keeps_what_arrived():
    raw = crlf(
        'Subject: coupe\nContent-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nDébut du message\n"
        '--b\nContent-Type: application/pdf; name="long.pdf"\nContent-Transfer-Encoding: base64\n\n'
        "JVBERi0xLjQK\nJVBER",
        "utf-8",
    )
    parsed = mime.parse_message(raw)
    assert parsed.body_text.strip() == "Début du message"
    [attachment] = parsed.attachments
    assert attachment.filename == "long.pdf" and attachment.content.startswith(b"%PDF-1.4")
    assert any(w.startswith("defects:") for w in parsed.warnings)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\x00\xff not an email at all",
        b"Subject",
        b"Content-Type: multipart/mixed\r\n\r\n--\r\n--\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\nx",
        b"Content-Type: message/rfc822\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=base64\r\n\r\nabc",
        b"Content-Type: text/plain; charset*=''\r\nContent-Disposition: attachment; filename*=zz''%ff%fe\r\n\r\nx",
        b"Subject: =?utf-8?B?###?=\r\nDate: Mon, 1 Jan 0001 00:00:00 -2359\r\nFrom: <<@>>\r\n\r\nx",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" * 50,
        os.urandom(4096),
    ],
)
def test_never_raises_and_never_drops(raw):
    parsed = mime.parse_message(raw)
    assert parsed.message_id
    if raw.strip():
        assert parsed.body_html or parsed.body_text or parsed.attachments
    for attachment in parsed.attachments:
        assert attachment.filename and isinstance(attachment.content, bytes)


def test_absurd_headers_stay_fast():
    raw = (
        b"Subject: " + b"=?a?q?" * 200_000 + b"\r\n"
        b"Content-Type: application/pdf; " + b"".join(b"name*%d*=a; " % i for i in range(100_000)) + b"\r\n"
        b"To: " + b"a@b.fr, " * 20_000 + b"\r\n\r\n%PDF"
    )
    start = time.perf_counter()
    parsed = mime.parse_message(raw)
    assert time.perf_counter() - start < 5
    assert len(parsed.to) == 20_000 and parsed.attachments[0].content == b"%PDF"


def test_deep_nesting_does_not_raise():
    raw = b"Subject: profond\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(3000)
    )
    parsed = mime.parse_message(raw + b"Content-Type: text/plain\r\n\r\nfond\r\n")
    assert parsed.body_text.strip() == "fond" or parsed.attachments[-1].content.startswith(b"Subject: profond")


def test_empty_multipart_keeps_raw_source():
    raw = crlf(
        'Subject: vide\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n\n--b--\n'
    )
    parsed = mime.parse_message(raw)
    assert parsed.body_html == "" and "no-body" in parsed.warnings
    assert [a.filename for a in parsed.attachments] == ["message-original.eml"]
    assert "no-body" not in mime.parse_message(b"Subject: vide\r\n\r\n").warnings


def test_catastrophic_failure_returns_raw_source(monkeypatch):
    def explode(*_args, **_kwargs):
        raise RecursionError("boom")

    monkeypatch.setattr(mime.email, "message_from_bytes", explode)
    raw = crlf(
        "From: =?utf-8?Q?Jos=C3=A9?= <Jose@Exemple.fr>\n"
        "Subject: =?iso-8859-1?Q?R=E9union?=\n"
        "Message-ID: <boom@exemple.fr>\n"
        f"Date: {DATE}\n\ncorps\n"
    )
    parsed = mime.parse_message(raw, fallback_date=FALLBACK)
    assert parsed.warnings == ["unparseable"]
    assert (parsed.subject, parsed.from_email, parsed.message_id) == ("Réunion", "jose@exemple.fr", "<boom@exemple.fr>")
    assert parsed.date == DATE_UTC and parsed.body_html == ""
    assert [(a.filename, a.mimetype, a.content) for a in parsed.attachments] == [
        ("message-original.eml", "message/rfc822", raw)
    ]
    garbage = mime.parse_message(b"\xff\xfe\x00", fallback_date=FALLBACK)
    assert garbage.message_id == mime.message_digest(b"\xff\xfe\x00") and garbage.message_id_is_digest
    assert garbage.date == FALLBACK and garbage.warnings == ["unparseable", "no-date"]


def test_accepts_non_bytes_input():
    assert mime.parse_message(bytearray(b"Subject: x\r\n\r\ny\r\n")).subject == "x"
    assert mime.parse_message(None).attachments == []
    assert mime.message_digest(memoryview(b"abc")) == mime.message_digest(b"abc")


def test_aware_fallback_becomes_naive_utc():
    assert mime.parse_message(b"Subject: x\r\n\r\ny", fallback_date=datetime(2025, 1, 1, tzinfo=UTC)).date == datetime(
        2025, 1, 1
    )
