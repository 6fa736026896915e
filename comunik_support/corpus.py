"""Realistic French emails for the comunik_mail demo mailboxes and the synchronization benchmark.

Standard library only, no Odoo: the demo loader and the benchmark import this file by path.

* :func:`demo_mailboxes` gives a few dozen hand-written emails for three demo IMAP mailboxes
  (``support@``, ``commercial@`` and Julie Martin's personal box), dated relative to ``now``
  so that both sync periods (*Aujourd'hui*, *Il y a 1 semaine*) show a difference.
* :func:`bulk_messages` generates ``n`` varied, deterministic messages for the sync benchmark.

Every message is a complete RFC 822 message with CRLF line endings. All names, companies,
addresses and phone numbers are fictitious: mail domains are under ``.example`` / ``.test``
and phone numbers are in the ranges the ARCEP reserves for fiction.
"""

import base64
import binascii
import hashlib
import html
import io
import random
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid

OUR_DOMAIN = "demo.comunik.test"
SUPPORT = f"support@{OUR_DOMAIN}"
COMMERCIAL = f"commercial@{OUR_DOMAIN}"
JULIE = f"julie.martin@{OUR_DOMAIN}"
MAILBOXES = (SUPPORT, COMMERCIAL, JULIE)

SMTP_POLICY = policy.SMTP  # policy.default with CRLF line endings
LEGACY_POLICY = policy.compat32.clone(linesep="\r\n")  # old clients: email.mime + email.header


@dataclass
class DemoMail:
    """One message to APPEND to a demo IMAP mailbox."""

    raw: bytes  # full RFC 822 message, CRLF line endings
    flags: tuple = ()  # IMAP flags, e.g. (r"\Seen",) for a message already read in webmail
    date: datetime | None = None  # INTERNALDATE for APPEND (timezone-aware), same instant as the Date header


# ---------------------------------------------------------------------------------------------------------------------
# Small realistic attachments
# ---------------------------------------------------------------------------------------------------------------------


def _pdf(lines):
    """A small but valid one-page PDF (Helvetica, WinAnsi) showing ``lines``."""

    def text(value):
        data = value.encode("cp1252", "replace")
        return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    content = b"BT /F1 11 Tf 14 TL 56 780 Td " + b"".join(b"(" + text(line) + b") Tj T* " for line in lines) + b"ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width, height, rows, level=9):
    """A valid RGB PNG from ``rows`` (``height`` rows of ``3 * width`` bytes)."""
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw, level))
        + _png_chunk(b"IEND", b"")
    )


def _parcel_photo():
    """A 64x48 "photo" (a brown parcel with a white label on a grey floor)."""
    rows = []
    for y in range(48):
        row = bytearray()
        for x in range(64):
            if 12 <= x < 52 and 8 <= y < 42:
                pixel = (250, 250, 245) if 30 <= x < 48 and 12 <= y < 22 else (176, 124, 72)
                if x in (31, 32) and 8 <= y < 42:  # tape
                    pixel = (210, 180, 120)
            else:
                shade = 150 + (x + y) % 20
                pixel = (shade, shade, shade)
            row += bytes(pixel)
        rows.append(row)
    return _png(64, 48, rows)


def _xlsx(rows):
    """A minimal but valid .xlsx workbook (one sheet, inline strings), with fixed timestamps."""

    def cell(ref, value):
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(value)}</t></is></c>'

    sheet_rows = "".join(
        f'<row r="{y}">' + "".join(cell(f"{chr(65 + x)}{y}", value) for x, value in enumerate(row)) + "</row>"
        for y, row in enumerate(rows, 1)
    )
    main = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{main}/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" '
            f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/officeDocument" '
            f'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}/spreadsheetml/2006/main" '
            f'xmlns:r="{main}/officeDocument/2006/relationships"><sheets>'
            f'<sheet name="Mobilier" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}/spreadsheetml/2006/main">'
            f"<sheetData>{sheet_rows}</sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 6, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode())
    return buffer.getvalue()


def _ics(uid, start, end, summary, location):
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FormaPlus//Inscriptions//FR",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{start.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{end.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{summary}",
        f"LOCATION:{location}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


# ---------------------------------------------------------------------------------------------------------------------
# Message building
# ---------------------------------------------------------------------------------------------------------------------

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _french_date(value):
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def _attribution(date, sender):
    return f"Le {_french_date(date)} à {date:%H:%M}, {sender} a écrit :"


def _quote(text):
    return "\n".join(">" + (" " + line if line and not line.startswith(">") else line) for line in text.split("\n"))


def _text_to_html(text, quoted=None, attribution=None):
    """HTML alternative of a plain-text body (paragraphs, signature, quoted parent in a blockquote)."""

    def paragraphs(value):
        blocks = [block for block in value.split("\n\n") if block.strip()]
        return "".join(
            "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>" for block in blocks
        )

    own, _sep, signature = text.partition("\n-- \n")
    body = paragraphs(own)
    if signature:
        body += '<div class="signature" style="color:#555">-- <br>' + paragraphs(signature) + "</div>"
    if quoted:
        body += (
            f"<p>{html.escape(attribution)}</p>"
            f'<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
            f"{paragraphs(quoted)}</blockquote>"
        )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head>'
        f'<body style="font-family:Arial,sans-serif;font-size:14px">{body}</body></html>'
    )


def _finish(msg, tag):
    """Deterministic MIME boundaries (the generator would draw random ones), then CRLF bytes."""
    for number, part in enumerate(part for part in msg.walk() if part.is_multipart()):
        part.set_boundary(f"----=_Part_{tag}_{number}")
    for part in msg.iter_parts() if msg.is_multipart() else ():
        for sub in part.walk():
            del sub["MIME-Version"]  # added by add_alternative()/add_attachment(): only the top level needs it
    raw = msg.as_bytes(policy=SMTP_POLICY)
    # The policy folds a long "Message-ID: <id>" as "Message-ID:\r\n <id>": legal, but clients never do it and
    # naive readers then see a leading space. Keep these on one line (< 998 characters anyway).
    head, sep, body = raw.partition(b"\r\n\r\n")
    return _UNFOLD_ID.sub(rb"\1: <", head) + sep + body


_UNFOLD_ID = re.compile(rb"^(Message-ID|In-Reply-To):\r\n <", re.MULTILINE)


def _build(
    *,
    sender,
    to,
    subject,
    date,
    message_id,
    text,
    html_body=None,
    cc=(),
    in_reply_to=None,
    references=(),
    attachments=(),
    inline_images=(),
    headers=(),
    cte="quoted-printable",
):
    """An ``EmailMessage``: text, or text + HTML (optionally with inline images), plus attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(references)
    msg.set_content(text, cte=cte)
    if html_body is not None:
        msg.add_alternative(html_body, subtype="html", cte=cte)
        if inline_images:
            html_part = msg.get_payload()[1]
            for cid, filename, data in inline_images:
                html_part.add_related(data, "image", "png", cid=f"<{cid}>", filename=filename, disposition="inline")
    for filename, maintype, subtype, data in attachments:
        msg.add_attachment(data, maintype, subtype, filename=filename)
    for name, value in headers:  # after the content: set_content() drops Content-* headers
        msg[name] = value
    return msg


# ---------------------------------------------------------------------------------------------------------------------
# Demo mailboxes
# ---------------------------------------------------------------------------------------------------------------------

_COMPANY = "Comunik Démo — Équipement de bureau"
_COMPANY_ADDRESS = "45 rue de la République, 69002 Lyon"

# key: (display name, address, signature)
_PEOPLE = {
    # Our side
    "support": (
        "Service client Comunik Démo",
        SUPPORT,
        f"Julie Martin\nService client — {_COMPANY}\n{_COMPANY_ADDRESS}\nTél. 04 65 71 10 20 (du lundi au vendredi, "
        "8h30-18h)",
    ),
    "commercial": (
        "Nicolas Bernard — Comunik Démo",
        COMMERCIAL,
        f"Nicolas Bernard\nChargé d'affaires — {_COMPANY}\n{_COMPANY_ADDRESS}\n"
        "Tél. 04 65 71 10 30 — Port. 06 39 98 41 27",
    ),
    "julie": (
        "Julie Martin",
        JULIE,
        f"Julie Martin\nChargée de clientèle — {_COMPANY}\nTél. 04 65 71 10 22",
    ),
    "thomas": (
        "Thomas Petit",
        f"thomas.petit@{OUR_DOMAIN}",
        f"Thomas Petit\nResponsable grands comptes — {_COMPANY}\nPort. 06 39 98 12 54",
    ),
    "camille": (
        "Camille Durand",
        f"camille.durand@{OUR_DOMAIN}",
        f"Camille Durand\nResponsable du service client — {_COMPANY}\nTél. 04 65 71 10 21",
    ),
    "lea": ("Léa Robert", f"lea.robert@{OUR_DOMAIN}", f"Léa Robert\nComptabilité — {_COMPANY}\nTél. 04 65 71 10 40"),
    "rh": ("Ressources humaines Comunik Démo", f"rh@{OUR_DOMAIN}", f"Le service RH\n{_COMPANY}"),
    "nicolas": ("Nicolas Bernard", f"nicolas.bernard@{OUR_DOMAIN}", "Nicolas"),
    # Customers and prospects
    "garnier": (
        "Marc Garnier",
        "marc.garnier@transports-garnier.example",
        "Marc Garnier\nResponsable logistique\nTransports Garnier SAS\n14 rue des Entrepreneurs, 69007 Lyon\n"
        "Tél. 04 65 71 52 18",
    ),
    "dupont": (
        "Sophie Dupont",
        "s.dupont@client-dupont.example",
        "Sophie Dupont\nComptabilité fournisseurs\nDupont & Fils SARL\n8 avenue Jean-Jaurès, 31000 Toulouse\n"
        "Tél. 05 36 49 20 75",
    ),
    "leroy": (
        "Paul Leroy",
        "contact@boulangerie-leroy.example",
        "Paul Leroy\nBoulangerie Leroy — Artisan boulanger\n3 place du Marché, 44000 Nantes\nTél. 02 61 91 33 08",
    ),
    "moreau": (
        "Isabelle Moreau",
        "i.moreau@cabinet-moreau.example",
        "Maître Isabelle Moreau\nCabinet Moreau Avocats\n22 boulevard Haussmann, 75009 Paris\nTél. 01 99 00 47 61",
    ),
    "lambert": (
        "Nathalie Lambert",
        "pharmacie@pharmacie-lambert.example",
        "Nathalie Lambert\nPharmacienne titulaire\nPharmacie Lambert\n5 rue Nationale, 59000 Lille\n"
        "Tél. 03 53 01 64 12",
    ),
    "fournier": (
        "Hélène Fournier",
        "direction@hotel-des-vignes.example",
        "Hélène Fournier\nDirectrice\nHôtel des Vignes ***\n1 chemin des Coteaux, 21200 Beaune\nTél. 03 53 01 88 40",
    ),
    "rousseau": (
        "Julien Rousseau",
        "julien@garage-rousseau.example",
        "Julien Rousseau\nGarage Rousseau\n77 route de Bordeaux, 16000 Angoulême\nTél. 05 36 49 71 03",
    ),
    "girard": (
        "Céline Girard",
        "celine.girard@fleurs-girard.example",
        "Céline Girard\nFleurs Girard\n12 rue Sainte-Catherine, 33000 Bordeaux\nTél. 05 36 49 15 92",
    ),
    "mercier": (
        "François Mercier",
        "f.mercier@mercier-expertise.example",
        "François Mercier\nExpert-comptable\nCabinet Mercier Expertise\n9 quai Lamartine, 35000 Rennes",
    ),
    "roux": (
        "Antoine Roux",
        "antoine.roux@roux-architectes.example",
        "Antoine Roux\nArchitecte DPLG — Gérant\nAgence Roux Architectes\n31 rue Paradis, 13001 Marseille\n"
        "Tél. 04 65 71 90 36",
    ),
    "blanc": (
        "Émilie Blanc",
        "accueil@cabinet-dentaire-blanc.example",
        "Dr Émilie Blanc\nCabinet dentaire Blanc\n6 avenue Victor-Hugo, 38000 Grenoble",
    ),
    "henry": (
        "Olivier Henry",
        "olivier.henry@henry-conseil.example",
        "Olivier Henry\nAssocié\nHenry Conseil\n18 rue de la Paix, 67000 Strasbourg",
    ),
    "perrin": (
        "Gérard Perrin",
        "gerard@bouchon-des-canuts.example",
        "Gérard Perrin\nLe Bouchon des Canuts\n4 rue d'Austerlitz, 69004 Lyon\nTél. 04 65 71 63 27",
    ),
    "chevalier": (
        "Claire Chevalier",
        "c.chevalier@labo-chevalier.example",
        "Claire Chevalier\nDirectrice administrative\nLaboratoire Chevalier\nZA des Iles, 38000 Grenoble",
    ),
    "faure": (
        "Bernard Faure",
        "menuiserie.faure@menuiserie-faure.example",
        "Bernard FAURE\nMenuiserie Faure & Fils\n2 route de Tulle, 19000 Tulle\nTél/Fax 05 36 49 02 11",
    ),
    "lefevre": (
        "Mathieu Lefèvre",
        "m.lefevre@imprimerie-lefevre.example",
        "Mathieu Lefèvre\nImprimerie Lefèvre\n27 rue Jeanne-d'Arc, 76000 Rouen\nTél. 02 61 91 58 70",
    ),
    "formaplus": (
        "FormaPlus — Inscriptions",
        "inscriptions@formaplus.example",
        "L'équipe FormaPlus\nOrganisme de formation professionnelle\n10 cours Lafayette, 69003 Lyon",
    ),
}

_SEEN = (r"\Seen",)
_SEEN_ANSWERED = (r"\Seen", r"\Answered")
_USER_AGENTS = {
    "support": "Comunik",
    "commercial": "Comunik",
    "garnier": "Microsoft Outlook 16.0",
    "dupont": "Microsoft Outlook 16.0",
    "roux": "Apple Mail (2.3774.500.171.1.1)",
    "henry": "Mozilla Thunderbird 128.5.0",
    "mercier": "Mozilla Thunderbird 128.5.0",
}


def _demo_specs():
    """Hand-written demo emails. ``when`` is (days ago, "HH:MM"); ``reply_to`` is the key of the parent email."""
    return {
        SUPPORT: [
            dict(
                key="panne",
                sender="garnier",
                to=["support"],
                when=(4, "08:12"),
                subject="Panne de l'imprimante d'étiquettes — expéditions bloquées",
                flags=_SEEN_ANSWERED,
                text="Bonjour,\n\nDepuis ce matin, l'imprimante d'étiquettes Zébra ZT230 que vous nous avez installée "
                "le mois dernier (n° de série 52J18-0447) n'imprime plus : le voyant rouge clignote et l'écran "
                "affiche « ERREUR TÊTE ».\n\nNous avons éteint et rallumé l'appareil, changé le rouleau, rien n'y "
                "fait. Nos expéditions du jour sont bloquées (une quarantaine de colis).\n\nPouvez-vous nous "
                "envoyer un technicien en urgence ? Le contrat de maintenance prévoit une intervention sous 24 h."
                "\n\nMerci d'avance,\n\nCordialement,",
            ),
            dict(
                key="panne-re",
                sender="support",
                to=["garnier"],
                reply_to="panne",
                when=(4, "09:05"),
                flags=_SEEN,
                text="Bonjour Monsieur Garnier,\n\nNous sommes désolés pour ce désagrément. Votre demande est "
                "enregistrée sous le ticket n° SAV-4471.\n\nUn technicien, M. Lucas Girard, passera chez vous "
                "demain entre 8 h et 10 h avec une tête d'impression de remplacement. En attendant, vous pouvez "
                "imprimer vos étiquettes au format A4 depuis votre espace client (menu Expéditions > Étiquettes)."
                "\n\nNous restons à votre disposition.\n\nBien cordialement,",
            ),
            dict(
                key="panne-re2",
                sender="garnier",
                to=["support"],
                reply_to="panne-re",
                when=(0, "08:40"),
                html=True,
                text="Bonjour,\n\nLe technicien est bien passé et l'imprimante a refonctionné toute la semaine, mais "
                "ce matin le même message « ERREUR TÊTE » est revenu.\n\nEst-il possible de remplacer "
                "l'appareil plutôt que de le réparer une deuxième fois ? Nous ne pouvons pas nous permettre "
                "d'autres retards d'expédition.\n\nMerci de me tenir informé.\n\nCordialement,",
            ),
            dict(
                key="facture",
                sender="dupont",
                to=["support"],
                when=(5, "10:20"),
                subject="Facture n°2024-118 en double",
                flags=_SEEN_ANSWERED,
                attachments=[("Facture_2024-118.pdf", "application", "pdf", "invoice")],
                text="Bonjour,\n\nNous avons reçu deux fois la facture n°2024-118 du 28 février (montant "
                "1 284,00 € TTC) : une fois par courrier et une fois par e-mail avec un numéro de commande "
                "différent. Notre service a failli la payer deux fois.\n\nPourriez-vous nous confirmer laquelle "
                "est valable et, le cas échéant, nous adresser un avoir pour l'autre ?\n\nVous trouverez la "
                "facture reçue par e-mail en pièce jointe.\n\nVous en remerciant par avance,\n\nBien cordialement,",
            ),
            dict(
                key="facture-re",
                sender="support",
                to=["dupont"],
                cc=["lea"],
                reply_to="facture",
                when=(5, "14:02"),
                flags=_SEEN,
                text="Bonjour Madame Dupont,\n\nMerci pour votre vigilance. Il s'agit bien d'un doublon dû à une "
                "erreur de notre outil de facturation : seule la facture reçue par courrier est valable.\n\n"
                "Notre service comptable (en copie) vous envoie un avoir de 1 284,00 € TTC sous 48 heures.\n\n"
                "Veuillez nous excuser pour la gêne occasionnée.\n\nBien cordialement,",
            ),
            dict(
                key="facture-re2",
                sender="dupont",
                to=["support"],
                reply_to="facture-re",
                when=(2, "09:15"),
                text="Bonjour,\n\nJ'ai bien reçu l'avoir n°AV-2024-019, merci. En revanche, il porte sur 1 070,00 € "
                "au lieu de 1 284,00 € : il semble que la TVA n'ait pas été reprise.\n\nPouvez-vous vérifier et "
                "nous renvoyer un avoir corrigé ?\n\nCordialement,",
            ),
            dict(
                key="acces",
                sender="leroy",
                to=["support"],
                when=(0, "07:05"),
                subject="Accès bloqué à l'espace client après changement de mot de passe",
                text="Bonjour,\n\nJ'ai changé mon mot de passe hier soir et depuis ce matin l'espace client "
                "m'indique « Compte verrouillé après trop de tentatives ». Je dois passer ma commande de "
                "fournitures avant jeudi.\n\nMon identifiant est : boulangerie.leroy\n\nPouvez-vous débloquer "
                "mon compte ? Je suis joignable au fournil jusqu'à 13 h.\n\nMerci beaucoup,",
            ),
            dict(
                key="rembourse",
                sender="moreau",
                to=["support"],
                when=(3, "11:30"),
                subject="Demande de remboursement — commande CMD-20931",
                flags=_SEEN_ANSWERED,
                attachments=[("relevé_prélèvement_CMD-20931.pdf", "application", "pdf", "statement")],
                text="Madame, Monsieur,\n\nNous avons annulé le 4 mars la commande CMD-20931 (deux fauteuils "
                "ergonomiques, 618,00 € TTC) dans le délai prévu par vos conditions générales, annulation que "
                "votre service a confirmée par écrit.\n\nLe montant a pourtant été prélevé sur notre compte, "
                "comme le montre le relevé ci-joint.\n\nJe vous remercie de bien vouloir procéder au "
                "remboursement dans les meilleurs délais.\n\nVeuillez agréer, Madame, Monsieur, l'expression de "
                "mes salutations distinguées.",
            ),
            dict(
                key="rembourse-re",
                sender="support",
                to=["moreau"],
                reply_to="rembourse",
                when=(1, "16:20"),
                flags=_SEEN,
                text="Bonjour Maître,\n\nVous avez raison : l'annulation n'avait pas été répercutée sur le "
                "prélèvement. Le remboursement de 618,00 € a été ordonné aujourd'hui ; il apparaîtra sur votre "
                "compte sous 3 à 5 jours ouvrés.\n\nNous vous prions de nous excuser pour cet incident.\n\n"
                "Bien cordialement,",
            ),
            dict(
                key="absent",
                sender="moreau",
                to=["support"],
                reply_to="rembourse-re",
                subject="Réponse automatique : absent du bureau",
                when=(1, "16:21"),
                headers=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")],
                quote=False,
                signature=False,
                text="Bonjour,\n\nJe suis absente du cabinet jusqu'au lundi inclus, en audience puis en congés, "
                "avec un accès limité à ma messagerie.\n\nPour toute urgence, vous pouvez joindre mon assistante, "
                "Mme Karine Vidal, au 01 99 00 47 60 ou à l'adresse secretariat@cabinet-moreau.example.\n\n"
                "Cordialement,\nIsabelle Moreau",
            ),
            dict(
                key="livraison",
                sender="lambert",
                to=["support"],
                when=(0, "10:30"),
                subject="Question sur la livraison de notre commande CMD-21007",
                html=True,
                inline_photo=True,
                text="Bonjour,\n\nNotre commande CMD-21007 (un meuble de rangement à tiroirs) devait être livrée "
                "mardi. Le transporteur a déposé ce matin un colis abîmé, sans la notice de montage, et le "
                "suivi indique « livré en 2 colis » alors que nous n'en avons reçu qu'un seul (photo "
                "ci-dessous).\n\nPouvez-vous nous dire où se trouve le second colis et s'il faut refuser le "
                "premier ?\n\nBien à vous,",
            ),
            dict(
                key="contrat",
                sender="fournier",
                to=["thomas"],
                cc=["support"],
                when=(1, "09:45"),
                subject="Renouvellement du contrat de maintenance — Hôtel des Vignes",
                text="Bonjour Monsieur Petit,\n\nNotre contrat de maintenance (copieurs et téléphonie) arrive à "
                "échéance à la fin du mois. Nous souhaitons le renouveler, mais en ajoutant le nouveau copieur "
                "de la réception et en passant à une intervention sous 4 heures pendant la saison.\n\nJe mets "
                "votre service client en copie pour qu'il dispose de notre demande.\n\nPourriez-vous nous faire "
                "une proposition d'ici la fin de la semaine prochaine ?\n\nCordialement,",
            ),
            dict(
                key="mdp",
                sender="rousseau",
                to=["support"],
                when=(5, "17:50"),
                subject="Lien de réinitialisation du mot de passe expiré",
                flags=_SEEN,
                text="Bonjour,\n\nJ'ai demandé trois fois un nouveau mot de passe pour l'espace client, et à chaque "
                "fois le lien reçu par e-mail m'affiche « Ce lien a expiré » alors que je clique dessus tout de "
                "suite.\n\nJ'utilise le navigateur de mon téléphone. Avez-vous une solution ?\n\nMerci,",
            ),
            dict(
                key="export",
                sender="mercier",
                to=["support"],
                when=(2, "15:10"),
                subject="Erreur lors de l'export comptable (FEC) de notre client",
                html=True,
                text="Bonjour,\n\nJe suis l'expert-comptable de la société Garage Rousseau, votre client. "
                "L'export du fichier des écritures comptables (FEC) depuis l'espace client s'arrête avec le "
                "message « Erreur 500 — export impossible » pour l'exercice en cours.\n\nL'export des exercices "
                "précédents fonctionne. Nous avons une échéance déclarative dans dix jours : pouvez-vous "
                "regarder rapidement ?\n\nBien cordialement,",
            ),
            dict(
                key="adresse",
                sender="girard",
                to=["support"],
                when=(0, "09:20"),
                subject="Changement d'adresse de livraison pour la commande CMD-21044",
                text="Bonjour,\n\nNous venons de passer la commande CMD-21044 (une banque d'accueil et deux "
                "tabourets). Nous déménageons la boutique à la fin du mois : pourriez-vous livrer à la nouvelle "
                "adresse, 40 cours de l'Intendance, 33000 Bordeaux ?\n\nLa livraison est possible du mardi au "
                "samedi, de 9 h à 12 h.\n\nMerci et bonne journée,",
            ),
        ],
        COMMERCIAL: [
            dict(
                key="chaises",
                sender="roux",
                to=["commercial"],
                when=(5, "09:30"),
                subject="Demande de devis — 40 chaises de bureau",
                flags=_SEEN_ANSWERED,
                html=True,
                text="Bonjour,\n\nNous aménageons nos nouveaux locaux marseillais et souhaiterions recevoir un devis "
                "pour 40 chaises de bureau ergonomiques (accoudoirs réglables, soutien lombaire, tissu gris "
                "anthracite), livraison et montage compris.\n\nL'emménagement est prévu dans six semaines. "
                "Pouvez-vous également nous indiquer les délais et la garantie ?\n\nBien cordialement,",
            ),
            dict(
                key="chaises-re",
                sender="commercial",
                to=["roux"],
                reply_to="chaises",
                when=(4, "11:00"),
                flags=_SEEN,
                attachments=[("Devis_DV-2025-0187.pdf", "application", "pdf", "quote")],
                text="Bonjour Monsieur Roux,\n\nMerci pour votre demande. Vous trouverez ci-joint notre devis "
                "DV-2025-0187 pour 40 chaises Ergo Plus (modèle gris anthracite) : 7 960,00 € HT, livraison et "
                "montage inclus, garantie 5 ans.\n\nLe délai de livraison est de 3 à 4 semaines à compter de la "
                "commande. Le devis est valable 30 jours.\n\nJe reste à votre disposition pour organiser un essai "
                "dans notre showroom lyonnais.\n\nBien cordialement,",
            ),
            dict(
                key="chaises-re2",
                sender="roux",
                to=["commercial"],
                reply_to="chaises-re",
                when=(0, "08:55"),
                html=True,
                text="Bonjour,\n\nMerci pour votre devis. Nous sommes prêts à le valider si vous pouvez nous "
                "accorder une remise de 8 % et garantir la livraison avant la fin du mois prochain.\n\n"
                "Pouvez-vous me confirmer cela rapidement ? Je vous renverrai alors le devis signé.\n\n"
                "Cordialement,",
            ),
            dict(
                key="accueil",
                sender="blanc",
                to=["commercial"],
                when=(3, "14:40"),
                subject="Demande de devis — aménagement de trois postes d'accueil",
                attachments=[
                    (
                        "Liste_mobilier_accueil.xlsx",
                        "application",
                        "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "xlsx",
                    )
                ],
                text="Bonjour,\n\nNous ouvrons un second cabinet et devons équiper trois postes d'accueil. Vous "
                "trouverez en pièce jointe la liste du mobilier souhaité, avec les quantités.\n\nPourriez-vous "
                "nous faire parvenir un devis, ainsi que vos délais de livraison pour Grenoble ?\n\n"
                "Je vous remercie par avance.\n\nCordialement,",
            ),
            dict(
                key="relance",
                sender="commercial",
                to=["henry"],
                when=(2, "10:00"),
                subject="Relance — devis DV-2025-0142 (écrans 27 pouces)",
                flags=_SEEN,
                text="Bonjour Monsieur Henry,\n\nJe me permets de revenir vers vous au sujet de notre devis "
                "DV-2025-0142 pour 12 écrans 27 pouces et leurs bras articulés, envoyé il y a trois semaines.\n\n"
                "Le prix promotionnel des écrans est garanti jusqu'à la fin du mois. Avez-vous pu en prendre "
                "connaissance ? Je peux vous appeler pour en parler si vous le souhaitez.\n\nBien cordialement,",
            ),
            dict(
                key="relance-re",
                sender="henry",
                to=["commercial"],
                reply_to="relance",
                when=(0, "11:15"),
                text="Bonjour,\n\nMerci pour la relance. Nous avons validé le budget hier : vous pouvez nous "
                "appeler jeudi matin pour finaliser. Il faudrait toutefois passer à 14 écrans (deux recrutements "
                "prévus).\n\nBien à vous,",
            ),
            dict(
                key="bouchon",
                sender="perrin",
                to=["commercial"],
                when=(1, "12:05"),
                subject="Relance : devis pour 6 tables hautes et 24 tabourets",
                text="Bonjour,\n\nJe vous ai téléphoné il y a dix jours pour un devis de 6 tables hautes et 24 "
                "tabourets pour la terrasse du restaurant, et je n'ai toujours rien reçu.\n\nLa saison démarre "
                "bientôt, merci de me répondre rapidement, sinon je devrai voir ailleurs.\n\nSalutations,",
            ),
            dict(
                key="rdv",
                sender="chevalier",
                to=["commercial"],
                when=(1, "17:30"),
                subject="Prise de rendez-vous — présentation de vos solutions d'aménagement",
                flags=_SEEN_ANSWERED,
                text="Bonjour,\n\nNous réaménageons le plateau administratif du laboratoire (25 postes) et "
                "aimerions vous rencontrer pour une présentation de vos solutions : bureaux assis-debout, "
                "cloisons acoustiques, rangements.\n\nSeriez-vous disponible la semaine prochaine, sur place "
                "à Grenoble ?\n\nCordialement,",
            ),
            dict(
                key="rdv-re",
                sender="commercial",
                to=["chevalier"],
                reply_to="rdv",
                when=(0, "09:10"),
                flags=_SEEN,
                text="Bonjour Madame Chevalier,\n\nAvec plaisir. Je vous propose les créneaux suivants :\n"
                "- mardi à 10 h ;\n- jeudi à 14 h ;\n- vendredi à 9 h 30.\n\nLa présentation dure environ une "
                "heure, visite du plateau comprise. Je viendrai avec des échantillons de cloisons.\n\n"
                "Bien cordialement,",
            ),
            dict(
                key="rdv-re2",
                sender="chevalier",
                to=["commercial"],
                reply_to="rdv-re",
                when=(0, "11:40"),
                text="Bonjour,\n\nJeudi 14 h nous convient parfaitement. L'accueil du laboratoire se trouve au "
                "bâtiment B ; un badge visiteur vous sera remis.\n\nÀ jeudi,",
            ),
            dict(
                key="tarifs",
                sender="faure",
                to=["commercial"],
                when=(3, "07:48"),
                subject="Demande de tarifs - plans de travail et tréteaux",
                legacy=True,
                text="Bonjour,\n\nSuite à notre conversation au salon de Périgueux, je souhaiterais connaître vos "
                "tarifs pour :\n- 10 plans de travail en hêtre massif 200 x 80 cm ;\n- 20 tréteaux réglables en "
                "hauteur ;\n- la livraison à Tulle (Corrèze).\n\nNous passons ce genre de commande deux à trois "
                "fois par an. Une remise est-elle envisageable ?\n\nDans l'attente de votre réponse, "
                "recevez mes salutations.",
            ),
            dict(
                key="armoires",
                sender="lefevre",
                to=["commercial"],
                when=(2, "16:30"),
                subject="Demande de devis — 2 armoires ignifugées et 1 coffre-fort",
                html=True,
                text="Bonjour,\n\nSuite à un audit de sécurité, nous devons équiper notre service administratif "
                "de deux armoires ignifugées (classe 60 minutes papier) et d'un coffre-fort à code pour les "
                "chèques.\n\nMerci de nous faire parvenir un devis avec la livraison en étage (2e étage sans "
                "ascenseur) et la reprise de nos anciennes armoires.\n\nCordialement,",
            ),
        ],
        JULIE: [
            dict(
                key="reunion",
                sender="camille",
                to=["julie", "thomas", "nicolas"],
                when=(5, "18:02"),
                subject="Réunion d'équipe lundi 9h30 — ordre du jour",
                flags=_SEEN_ANSWERED,
                text="Bonjour à tous,\n\nVoici l'ordre du jour de la réunion de lundi (salle Rhône, 9h30) :\n"
                "1. Bilan des tickets du mois et délais de réponse\n2. Mise en service de la boîte partagée "
                "support@ dans Odoo\n3. Organisation des permanences d'été\n4. Points divers\n\nMerci de me "
                "faire remonter vos sujets d'ici vendredi.\n\nBonne soirée,",
            ),
            dict(
                key="reunion-re",
                sender="julie",
                to=["camille"],
                reply_to="reunion",
                when=(4, "08:31"),
                flags=_SEEN,
                text="Bonjour Camille,\n\nJe voudrais ajouter un point sur les modèles de réponse pour les "
                "demandes de remboursement : nous en avons eu plusieurs cette semaine.\n\nMerci,",
            ),
            dict(
                key="reunion-re2",
                sender="camille",
                to=["julie"],
                reply_to="reunion-re",
                when=(4, "09:12"),
                flags=_SEEN,
                text="Bonjour Julie,\n\nBonne idée, je l'ajoute au point 1. Peux-tu préparer deux ou trois "
                "exemples ?\n\nMerci !",
            ),
            dict(
                key="frais",
                sender="lea",
                to=["julie"],
                when=(3, "10:12"),
                subject="Note de frais de mars — justificatif manquant",
                attachments=[("note_de_frais_mars.csv", "text", "csv", "expenses")],
                text="Bonjour Julie,\n\nEn contrôlant ta note de frais de mars (détail ci-joint), il me manque le "
                "justificatif du déjeuner client du 12 (42,50 €).\n\nPeux-tu me le déposer dans le bac de la "
                "comptabilité ou me l'envoyer scanné avant vendredi ? Sans cela, il ne pourra pas être "
                "remboursé ce mois-ci.\n\nMerci et bonne journée,",
            ),
            dict(
                key="conges",
                sender="rh",
                to=["julie"],
                when=(2, "14:00"),
                subject="Congés d'été : merci de saisir vos dates dans l'outil RH",
                flags=_SEEN,
                html=True,
                text="Bonjour,\n\nAfin d'organiser la continuité du service cet été, merci de saisir vos souhaits "
                "de congés dans l'outil RH avant la fin du mois.\n\nRappel : au moins une personne du service "
                "client doit être présente chaque jour ouvré, et les congés de plus de trois semaines "
                "consécutives doivent être validés par votre responsable.\n\nBonne journée,",
            ),
            dict(
                key="formation",
                sender="formaplus",
                to=["julie"],
                when=(1, "11:40"),
                subject="Confirmation d'inscription — formation « Désamorcer les situations conflictuelles »",
                html=True,
                attachments=[("invitation.ics", "text", "calendar", "ics")],
                text="Bonjour Madame Martin,\n\nNous avons le plaisir de vous confirmer votre inscription à la "
                "formation « Désamorcer les situations conflictuelles au téléphone et par e-mail » (1 jour), "
                "financée par votre employeur.\n\nLieu : FormaPlus, 10 cours Lafayette, 69003 Lyon, salle 2.\n"
                "Horaires : 9 h – 17 h 30, déjeuner offert.\n\nVous trouverez l'invitation à ajouter à votre "
                "agenda en pièce jointe.\n\nÀ bientôt,",
            ),
            dict(
                key="pot",
                sender="nicolas",
                to=["julie", "thomas", "camille", "lea"],
                when=(1, "15:00"),
                subject="Pot vendredi 17h pour fêter le contrat Garnier 🎉",
                text="Salut à tous,\n\nOn a signé le renouvellement avec Transports Garnier, trois ans ! Je vous "
                "propose un petit pot vendredi à 17h à la cafétéria.\n\nDites-moi si vous avez des allergies, "
                "je m'occupe des courses.\n\nÀ vendredi !",
            ),
            dict(
                key="visite",
                sender="thomas",
                to=["julie"],
                cc=["camille"],
                when=(0, "08:05"),
                subject="Compte rendu — visite chez Transports Garnier",
                html=True,
                text="Bonjour Julie,\n\nPour ton information avant ta réponse à Marc Garnier :\n\n- Ils sont "
                "globalement satisfaits, mais la panne répétée de l'imprimante d'étiquettes les a beaucoup "
                "agacés.\n- Je leur ai promis un appareil de prêt si une nouvelle panne survient.\n- Ils "
                "envisagent d'équiper leur deuxième entrepôt (Vénissieux) d'ici l'automne.\n\nMerci de me mettre "
                "en copie de tes échanges avec eux.\n\nBonne journée,",
            ),
            dict(
                key="permanences",
                sender="camille",
                to=["julie"],
                when=(0, "12:30"),
                subject="Planning des permanences de la semaine prochaine",
                text="Bonjour Julie,\n\nPeux-tu assurer la permanence téléphonique de mardi après-midi à la place "
                "de Nicolas ? Il sera en rendez-vous à Grenoble.\n\nEn échange, tu peux partir à 16 h jeudi.\n\n"
                "Merci de me confirmer,",
            ),
        ],
    }


def _address(key):
    name, address, _signature = _PEOPLE[key]
    return str(Address(name, addr_spec=address))


def _demo_attachment(kind, spec_date, now):
    if kind == "invoice":
        return _pdf(
            [
                _COMPANY,
                _COMPANY_ADDRESS,
                "",
                "FACTURE N° 2024-118",
                "Client : Dupont & Fils SARL — 8 avenue Jean-Jaurès, 31000 Toulouse",
                "",
                "Désignation                         Qté     PU HT     Total HT",
                "Bureau droit 160 x 80 cm, chêne clair  2    310,00 €    620,00 €",
                "Caisson mobile 3 tiroirs               2    135,00 €    270,00 €",
                "Livraison et montage                   1    180,00 €    180,00 €",
                "",
                "Total HT : 1 070,00 €   TVA 20 % : 214,00 €   Total TTC : 1 284,00 €",
                "Conditions de paiement : 30 jours fin de mois, par virement.",
            ]
        )
    if kind == "quote":
        return _pdf(
            [
                _COMPANY,
                "DEVIS N° DV-2025-0187 — valable 30 jours",
                "Client : Agence Roux Architectes, 31 rue Paradis, 13001 Marseille",
                "",
                "40 x Chaise Ergo Plus, tissu gris anthracite    40 x 189,00 €   7 560,00 €",
                "Livraison et montage sur site                              400,00 €",
                "",
                "Total HT : 7 960,00 €   TVA 20 % : 1 592,00 €   Total TTC : 9 552,00 €",
                "Bon pour accord (date, signature et cachet) :",
            ]
        )
    if kind == "statement":
        day = spec_date - timedelta(days=9)
        return _pdf(
            [
                "Banque Populaire Fictive — Relevé de compte (extrait)",
                "Titulaire : SELARL Cabinet Moreau Avocats",
                "",
                f"{day:%d/%m/%Y}   PRLV SEPA COMUNIK DEMO CMD-20931        - 618,00 EUR",
                f"{day:%d/%m/%Y}   VIR URSSAF                               - 1 240,00 EUR",
            ]
        )
    if kind == "xlsx":
        return _xlsx(
            [
                ["Article", "Quantité", "Remarques"],
                ["Banque d'accueil d'angle, blanche", 3, "Avec tablette PMR"],
                ["Fauteuil de bureau sur roulettes", 3, "Assise tissu bleu"],
                ["Chaise visiteur empilable", 12, ""],
                ["Caisson mobile 3 tiroirs", 3, "Fermeture à clé"],
                ["Présentoir à brochures mural", 2, ""],
            ]
        )
    if kind == "expenses":
        lines = [
            "Date;Nature;Client / motif;Montant TTC (€);Justificatif",
            "03/03;Train Lyon-Grenoble A/R;Cabinet dentaire Blanc;58,40;oui",
            "12/03;Déjeuner client;Transports Garnier;42,50;non",
            "19/03;Parking;Hôtel des Vignes (Beaune);9,80;oui",
            "26/03;Indemnités kilométriques (86 km);Pharmacie Lambert;51,43;oui",
        ]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
    if kind == "ics":
        start = (now + timedelta(days=9)).replace(hour=9, minute=0, second=0, microsecond=0)
        return _ics(
            f"formation-{start:%Y%m%d}-jmartin@formaplus.example",
            start,
            start.replace(hour=17, minute=30),
            "Formation : désamorcer les situations conflictuelles",
            "FormaPlus\\, 10 cours Lafayette\\, 69003 Lyon",
        )
    raise ValueError(kind)


def _subject_base(subject):
    return re.sub(r"^(\s*(re|tr|fwd?)\s*:\s*)+", "", subject, flags=re.IGNORECASE)


def _legacy_message(*, sender, to, subject, date, message_id, text):
    """An old mail client: ISO-8859-1 quoted-printable body and ISO-8859-1 encoded-word subject (email.mime).

    ``sender`` and ``to`` are (name, address) pairs.
    """
    msg = MIMEText(text, "plain", "iso-8859-1")
    content_headers = [(name, msg[name]) for name in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding")]
    for name, _value in content_headers:
        del msg[name]
    msg["From"] = formataddr(sender, "iso-8859-1")
    msg["To"] = ", ".join(formataddr(pair) for pair in to)
    msg["Subject"] = Header(subject, "iso-8859-1")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in content_headers:
        msg[name] = value
    msg["X-Mailer"] = "Microsoft Outlook Express 6.00.2900.5931"
    return msg.as_bytes(policy=LEGACY_POLICY)


def _aware(now):
    return now if now.tzinfo is not None and now.utcoffset() is not None else now.astimezone()


def _demo_clock(now, all_specs):
    """``when`` (days ago, "HH:MM") -> datetime; today's times are squeezed before ``now`` if it is early."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    latest_today = max(
        int(spec["when"][1][:2]) * 60 + int(spec["when"][1][3:])
        for specs in all_specs.values()
        for spec in specs
        if spec["when"][0] == 0
    )
    room = (now - midnight).total_seconds() / 60 - 1
    scale = 1.0 if room >= latest_today else max(room, 0) / latest_today

    def clock(when):
        days, hhmm = when
        minutes = int(hhmm[:2]) * 60 + int(hhmm[3:])
        if days == 0:
            value = midnight + timedelta(minutes=minutes * scale)
        else:
            value = (midnight - timedelta(days=days)).replace(hour=minutes // 60, minute=minutes % 60)
        return min(value, now).replace(microsecond=0)

    return clock


def demo_mailboxes(now: datetime) -> dict[str, list[DemoMail]]:
    """Realistic French emails for the three demo mailboxes, dated within the 6 days before ``now``.

    Several emails of every box are dated today (before ``now``), others 2 to 5 days back, so that the
    sync periods "Aujourd'hui" and "Il y a 1 semaine" fetch different sets. Threads (Message-ID,
    In-Reply-To, References) stay inside one mailbox and include our own replies. A naive ``now`` is
    taken as local time. Message-IDs come from ``make_msgid``: they differ on every call.
    """
    now = _aware(now)
    all_specs = _demo_specs()
    clock = _demo_clock(now, all_specs)
    result = {}
    for mailbox, specs in all_specs.items():
        built = {}  # key -> dict(message_id, references, subject, text, date, sender)
        mails = []
        for spec in specs:
            date = clock(spec["when"])
            name, address, signature = _PEOPLE[spec["sender"]]
            sender = str(Address(name, addr_spec=address))
            domain = address.rpartition("@")[2]
            message_id = make_msgid(domain=domain)
            parent = built.get(spec.get("reply_to"))
            subject = spec.get("subject") or "Re: " + _subject_base(parent["subject"])
            text = spec["text"]
            if spec.get("signature", True):
                text += "\n\n-- \n" + signature
            own_text = text
            quoted = None
            if parent and spec.get("quote", True):
                quoted = parent["text"]
                text += "\n\n" + _attribution(parent["date"], parent["sender"]) + "\n" + _quote(quoted)
            headers = list(spec.get("headers", ()))
            if spec["sender"] in _USER_AGENTS:
                headers.append(("User-Agent", _USER_AGENTS[spec["sender"]]))
            if address.endswith(OUR_DOMAIN):
                headers.append(("Organization", _COMPANY))
            headers.append(("Content-Language", "fr"))
            to = [_address(key) for key in spec["to"]]
            cc = [_address(key) for key in spec.get("cc", ())]
            if spec.get("legacy"):
                raw = _legacy_message(
                    sender=(name, address),
                    to=[_PEOPLE[key][:2] for key in spec["to"]],
                    subject=subject,
                    date=date,
                    message_id=message_id,
                    text=text,
                )
            else:
                html_body = None
                inline = []
                if spec.get("html"):
                    attribution = _attribution(parent["date"], parent["sender"]) if quoted else None
                    html_body = _text_to_html(own_text, quoted, attribution)
                if spec.get("inline_photo"):
                    inline.append(("photo-colis.1@pharmacie-lambert.example", "photo_colis.png", _parcel_photo()))
                    picture = (
                        '<p><img src="cid:photo-colis.1@pharmacie-lambert.example" alt="Photo du colis reçu" '
                        'width="320" height="240"></p>'
                    )
                    html_body = html_body.replace('<div class="signature"', picture + '<div class="signature"', 1)
                attachments = [
                    (filename, maintype, subtype, _demo_attachment(kind, date, now))
                    for filename, maintype, subtype, kind in spec.get("attachments", ())
                ]
                references = ([*parent["references"], parent["message_id"]]) if parent else []
                msg = _build(
                    sender=sender,
                    to=to,
                    cc=cc,
                    subject=subject,
                    date=date,
                    message_id=message_id,
                    text=text,
                    html_body=html_body,
                    in_reply_to=parent["message_id"] if parent else None,
                    references=references,
                    attachments=attachments,
                    inline_images=inline,
                    headers=headers,
                )
                raw = _finish(msg, hashlib.sha1(message_id.encode()).hexdigest()[:16])
            built[spec["key"]] = dict(
                message_id=message_id,
                references=([*parent["references"], parent["message_id"]]) if parent else [],
                subject=subject,
                text=own_text,
                date=date,
                sender=sender,
            )
            mails.append(DemoMail(raw=raw, flags=tuple(spec.get("flags", ())), date=date))
        result[mailbox] = mails
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Benchmark messages
# ---------------------------------------------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Marie Nathalie Isabelle Sylvie Catherine Christine Sophie Céline Julie Camille Léa Chloé Émilie Hélène "
    "Aurélie Sandrine Valérie Claire Manon Inès Jean Pierre Michel Philippe Alain Nicolas François Laurent "
    "Stéphane Thomas Julien Antoine Mathieu Sébastien Olivier Éric Jérôme Lucas Hugo Gérard"
).split()
_LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel Garcia "
    "David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont Lambert Bonnet François "
    "Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu "
    "Clément Gauthier Dumont Lopez Fontaine Chevalier Robin"
).split()
_TRADES = (
    "Transports",
    "Boulangerie",
    "Garage",
    "Pharmacie",
    "Cabinet",
    "Menuiserie",
    "Imprimerie",
    "Hôtel",
    "Fleurs",
    "Librairie",
    "Plomberie",
    "Agence",
    "Laboratoire",
    "Restaurant",
    "Électricité",
    "Clinique vétérinaire",
)
_CITIES = (
    "Lyon",
    "Paris",
    "Marseille",
    "Toulouse",
    "Nantes",
    "Lille",
    "Bordeaux",
    "Rennes",
    "Grenoble",
    "Strasbourg",
    "Montpellier",
    "Dijon",
    "Angers",
    "Rouen",
    "Saint-Étienne",
)
_ITEMS = (
    "chaises de bureau",
    "bureaux assis-debout",
    "armoires à rideaux",
    "écrans 27 pouces",
    "caissons mobiles",
    "fauteuils ergonomiques",
    "tables de réunion",
    "casques téléphoniques",
    "cloisons acoustiques",
    "lampes de bureau",
)
_SUBJECTS = (
    "Facture n°2025-{n:03d} en double",
    "Panne de l'imprimante — atelier de {city} à l'arrêt",
    "Demande de devis — {q} {item}",
    "Question sur la livraison de la commande CMD-{n}",
    "Accès bloqué à l'espace client",
    "Demande de remboursement — commande CMD-{n}",
    "Relance : devis DV-2025-{n:04d} toujours en attente",
    "Prise de rendez-vous — présentation à {city}",
    "Erreur sur le bon de livraison BL-{n}",
    "Changement d'adresse de facturation",
    "Commande CMD-{n} : confirmation",
    "Ticket #{n} - copieur hors service",
    "Demande de devis pour {q} {item}",
    "RDV mardi 14h ?",
    "Contrat de maintenance {city} - renouvellement",
    "Mot de passe perdu",
    "Colis manquant - commande CMD-{n}",
)
_GREETINGS = ("Bonjour,", "Bonjour Madame, Monsieur,", "Bonjour à toute l'équipe,", "Madame, Monsieur,", "Bonjour,")
_SENTENCES = (
    "Je me permets de vous contacter au sujet de notre dernière commande.",
    "Nous constatons depuis lundi un dysfonctionnement sur l'appareil installé dans nos locaux de {city}.",
    "Pourriez-vous nous faire parvenir un devis détaillé, livraison et installation comprises ?",
    "Le montant facturé ne correspond pas au bon de commande signé.",
    "Nos équipes ne peuvent plus se connecter à l'espace client depuis ce matin.",
    "La livraison prévue mardi n'a toujours pas eu lieu et le suivi n'est pas à jour.",
    "Merci de nous indiquer vos délais pour {q} {item}.",
    "Nous souhaiterions également connaître vos conditions de paiement.",
    "Je reste joignable au bureau jusqu'à 18 h.",
    "Le transporteur a laissé un avis de passage alors que l'accueil était ouvert.",
    "Vous trouverez les références utiles ci-dessous.",
    "Est-il possible d'obtenir un geste commercial compte tenu du retard ?",
    "Notre comptabilité a besoin d'un avoir avant la clôture du mois.",
    "Pouvez-vous nous proposer un créneau d'intervention cette semaine ?",
    "Nous avons bien reçu votre proposition et l'étudions en interne.",
)
_OUR_REPLIES = (
    "Merci pour votre message.",
    "Nous avons bien pris en compte votre demande, elle est enregistrée sous le ticket n° SAV-{n}.",
    "Je vous confirme que le technicien passera demain matin.",
    "Vous trouverez ci-dessous les éléments demandés.",
    "Un avoir vous sera adressé sous 48 heures.",
    "Nous revenons vers vous dès que nous avons une réponse du transporteur.",
    "Pouvez-vous nous préciser le numéro de série de l'appareil ?",
)
_THEIR_REPLIES = (
    "Merci pour votre retour rapide.",
    "Le problème persiste malheureusement, pouvez-vous me rappeler ?",
    "C'est parfait pour nous, merci.",
    "Je n'ai toujours rien reçu à ce jour.",
    "Pouvez-vous me confirmer la date d'intervention ?",
    "Le numéro de série est indiqué sous l'appareil : SN-{n}.",
)
_CLOSINGS = ("Cordialement,", "Bien cordialement,", "Bien à vous,", "Merci d'avance,", "Bonne journée,")
_MAILERS = ("Microsoft Outlook 16.0", "Mozilla Thunderbird 128.5.0", "Apple Mail (2.3774.500.171.1.1)", "Roundcube")


def _slug(value):
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-")


def _bulk_attachment(rng, index, csv_rows):
    size = rng.randint(1024, 50 * 1024)
    kind = rng.randrange(3)
    if kind == 0:
        header = b"%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % size
        trailer = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        data = header + rng.randbytes(max(0, size - len(header) - len(trailer))) + trailer
        return f"document_{index:05d}.pdf", "application", "pdf", data
    if kind == 1:
        rows = rng.choices(csv_rows, k=size // 40 + 1)
        data = ("date;référence;désignation;quantité;montant_ht\r\n" + "".join(rows)).encode()
        data = data[: data.rfind(b"\r\n", 0, size) + 2]  # whole rows, at most ``size`` bytes
        return f"export_{index:05d}.csv", "text", "csv", data
    width = 64
    height = max(1, (size - 80) // (3 * width + 1))  # minus the PNG and zlib overhead
    data = rng.randbytes(height * 3 * width)
    rows = [data[y * 3 * width : (y + 1) * 3 * width] for y in range(height)]
    return f"capture_{index:05d}.png", "image", "png", _png(width, height, rows, level=1)


def _base64_lines(data):
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))


def _encoded_words(value):
    """RFC 2047 "B" encoded words of at most 45 UTF-8 bytes each (never splitting a character), folded.

    Leading ASCII words ("Re:", "Demande de devis") stay readable, as mail clients do.
    """
    words = value.split(" ")
    plain = next(index for index, word in enumerate(words) if not word.isascii())
    prefix, value = " ".join(words[:plain]), " ".join(words[plain:])
    words, chunk = [], b""
    for char in value:
        data = char.encode()
        if len(chunk) + len(data) > 45:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    encoded = "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)
    return f"{prefix} {encoded}" if prefix else encoded


def _raw_header(name, value):
    """One folded header line; non-ASCII Subject as RFC 2047 encoded words (addresses are already encoded)."""
    if name == "Subject" and not value.isascii():
        value = _encoded_words(value)
    elif name == "References":
        value = value.replace(" ", "\r\n ")
    return f"{name}: {value}\r\n".encode()


def _raw_text(subtype, text, cte):
    data = text.replace("\n", "\r\n").encode()
    if cte == "quoted-printable":
        # b2a_qp breaks soft lines with LF when the text has no CRLF (single-line HTML): normalize.
        data = binascii.b2a_qp(data, istext=True).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    elif cte == "base64":
        data = _base64_lines(data)
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    return head.encode() + data


def _raw_multipart(subtype, boundary, parts):
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'.encode()
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in parts) + delimiter + b"--\r\n"
    return head + b"This is a multi-part message in MIME format.\r\n\r\n" + body


def _raw_message(headers, text, html_body, attachments, cte, boundary):
    """RFC 822 bytes built by hand: the email package's generator is ~10x too slow for the benchmark."""
    body = _raw_text("plain", text, cte)
    if html_body is not None:
        body = _raw_multipart("alternative", boundary + "alt", [body, _raw_text("html", html_body, cte)])
    if attachments:
        parts = [body]
        for filename, maintype, subtype, data in attachments:
            parts.append(
                (
                    f'Content-Type: {maintype}/{subtype}; name="{filename}"\r\n'
                    f"Content-Transfer-Encoding: base64\r\n"
                    f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
                ).encode()
                + _base64_lines(data)
            )
        body = _raw_multipart("mixed", boundary + "mix", parts)
    return b"".join(_raw_header(name, value) for name, value in headers) + b"MIME-Version: 1.0\r\n" + body


def bulk_messages(n: int, mailbox: str, now: datetime, seed: int = 42) -> Iterator[bytes]:
    """``n`` varied, deterministic messages delivered to ``mailbox``, for the sync benchmark.

    Same ``(n, mailbox, now, seed)``, same bytes. About 70 % plain text or text + HTML, 20 % replies
    threading to earlier messages of the same call (In-Reply-To / References), 10 % with a 1-50 KB
    attachment (PDF-like, CSV or PNG). Dates increase from ``now - 6 days`` to just before ``now``;
    Message-IDs are unique (index-based), not from ``make_msgid`` which is random. The bytes are
    assembled directly (``email``'s generator is too slow for 5,000 messages in well under 3 s).
    """
    now = _aware(now).replace(microsecond=0)
    rng = random.Random(f"{seed}:{mailbox}")
    tag = hashlib.sha1(f"{seed}:{mailbox}".encode()).hexdigest()[:8]
    mailbox_name = mailbox.partition("@")[0].replace(".", " ").title()
    our_sender = formataddr((f"{mailbox_name} — Comunik Démo", mailbox))
    contacts = []
    for _ in range(80):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        company = f"{rng.choice(_TRADES)} {rng.choice(_LAST_NAMES)}"
        address = f"{_slug(first)}.{_slug(last)}@{_slug(company)}.example"
        contacts.append((formataddr((f"{first} {last}", address)), f"{first} {last}\n{company}\n{rng.choice(_CITIES)}"))
    csv_rows = [
        f"{1 + row % 28:02d}/{1 + row % 12:02d}/2025;REF-{rng.randrange(10000, 99999)};{rng.choice(_ITEMS)};"
        f"{rng.randint(1, 40)};{rng.randint(100, 99999) // 100},{rng.randrange(100):02d}\r\n"
        for row in range(400)
    ]
    span = timedelta(days=6).total_seconds()
    start = now - timedelta(days=6)
    history = []  # (message_id, references, subject, contact index, our message?)
    for index in range(n):
        date = start + timedelta(seconds=int(span * (index + rng.random() * 0.9) / n))
        values = dict(n=rng.randrange(10000, 99999), q=rng.choice((2, 4, 6, 10, 12, 20, 40)), item=rng.choice(_ITEMS))
        values["city"] = rng.choice(_CITIES)
        roll = rng.random()
        reply = roll < 0.2 and history
        with_attachment = 0.2 <= roll < 0.3
        in_reply_to, references = None, ()
        if reply:
            parent_id, parent_refs, parent_subject, contact_index, parent_ours = history[
                max(0, len(history) - 1 - int(rng.expovariate(1 / 40)))
            ]
            ours = not parent_ours
            subject = "Re: " + _subject_base(parent_subject)
            in_reply_to, references = parent_id, (*parent_refs[:1], *parent_refs[1:][-8:], parent_id)
            sentences = [rng.choice(_OUR_REPLIES if ours else _THEIR_REPLIES) for _ in range(rng.randint(1, 2))]
        else:
            contact_index = rng.randrange(len(contacts))
            ours = rng.random() < 0.1
            subject = rng.choice(_SUBJECTS).format(**values)
            sentences = [rng.choice(_SENTENCES) for _ in range(rng.randint(2, 5))]
        contact, signature = contacts[contact_index]
        sender, recipient = (our_sender, contact) if ours else (contact, mailbox)
        if ours:
            signature = f"{mailbox_name}\n{_COMPANY}\n{_COMPANY_ADDRESS}"
        body = " ".join(sentences).format(**values)
        text = f"{rng.choice(_GREETINGS)}\n\n{body}\n\n{rng.choice(_CLOSINGS)}\n\n-- \n{signature}\n"
        domain = sender.rpartition("@")[2].rstrip(">")
        message_id = f"<{int(date.timestamp())}.{tag}.{index:06d}.{rng.getrandbits(32):08x}@{domain}>"
        html_body = _text_to_html(text) if rng.random() < 0.45 else None
        attachments = [_bulk_attachment(rng, index, csv_rows)] if with_attachment else []
        cc = rng.choice(contacts)[0] if rng.random() < 0.1 else None
        headers = [
            ("From", sender),
            ("To", recipient),
            *([("Cc", cc)] if cc else []),
            ("Subject", subject),
            ("Date", format_datetime(date)),
            ("Message-ID", message_id),
            *([("In-Reply-To", in_reply_to), ("References", " ".join(references))] if in_reply_to else []),
            ("User-Agent", rng.choice(_MAILERS)),
            ("Content-Language", "fr"),
        ]
        cte = rng.choice(("quoted-printable", "quoted-printable", "8bit", "base64"))
        history.append((message_id, references, subject, contact_index, ours))
        yield _raw_message(headers, text, html_body, attachments, cte, f"----=_Part_{tag}_{index:06d}_")


__all__ = ["DemoMail", "MAILBOXES", "bulk_messages", "demo_mailboxes"]
