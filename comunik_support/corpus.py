"""Realistic French emails for the comunik_mail demo mailboxes and the synchronization benchmark.

Standard library only, no Odoo.

* :func:`demo_mailboxes` reads the hand-written emails of the three demo IMAP mailboxes (``support@``,
  ``commercial@`` and Julie Martin's personal box) from ``demo_mail/<mailbox>/NNN-slug.eml`` and dates them
  relative to ``now``, so that both sync periods (*Aujourd'hui*, *Il y a 1 semaine*) show a difference.
* :func:`bulk_messages` generates ``n`` varied, deterministic messages for the sync benchmark.

Every message is a complete RFC 822 message with CRLF line endings. All names, companies,
addresses and phone numbers are fictitious: mail domains are under ``.example`` / ``.test``
and phone numbers are in the ranges the ARCEP reserves for fiction.

The demo .eml files are ordinary messages (stored with LF line endings; parents before their replies, in file
name order) with two extra headers that the loader reads and removes:

``X-Comunik-Demo-Date: today 08:40`` or ``X-Comunik-Demo-Date: 4 days ago 11:30``
    when the email arrived, in the local time of ``now``; replaces the ``Date`` header and is the IMAP
    INTERNALDATE. When ``now`` is earlier in the day than the latest email of today, today's times are
    squeezed before ``now``.
``X-Comunik-Demo-Flags: \\Seen \\Answered``
    IMAP flags (no header: unread).

To add a demo email, copy a neighbouring file and edit it; keep its ``Message-ID`` unique (a reply's
``In-Reply-To`` / ``References`` name its parents'). Attachments are base64 parts like in any email.
"""

import base64
import binascii
import hashlib
import html
import random
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, formataddr
from pathlib import Path

OUR_DOMAIN = "demo.comunik.test"
SUPPORT = f"support@{OUR_DOMAIN}"
COMMERCIAL = f"commercial@{OUR_DOMAIN}"
JULIE = f"julie.martin@{OUR_DOMAIN}"
MAILBOXES = (SUPPORT, COMMERCIAL, JULIE)
DEMO_MAIL_DIR = Path(__file__).resolve().parent / "demo_mail"

_COMPANY = "Comunik Démo — Équipement de bureau"
_COMPANY_ADDRESS = "45 rue de la République, 69002 Lyon"


@dataclass
class DemoMail:
    """One message to APPEND to a demo IMAP mailbox."""

    raw: bytes  # full RFC 822 message, CRLF line endings
    flags: tuple = ()  # IMAP flags, e.g. (r"\Seen",) for a message already read in webmail
    date: datetime | None = None  # INTERNALDATE for APPEND (timezone-aware), same instant as the Date header


# ---------------------------------------------------------------------------------------------------------------------
# Demo mailboxes
# ---------------------------------------------------------------------------------------------------------------------

_WHEN = re.compile(r"(?:today|(\d+) days? ago) ([01]\d|2[0-3]):([0-5]\d)")
_DATE_LINE = re.compile(rb"^Date:.*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class _DemoFile:
    head: bytes  # header block without the X-Comunik-Demo-* headers, LF line endings
    body: bytes
    days: int  # days before ``now``
    minutes: int  # local time of day, in minutes
    flags: tuple


def _read_demo_file(path):
    data = path.read_bytes().replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise ValueError(f"{path}: no blank line after the headers")
    kept, demo = [], {}
    for line in head.split(b"\n"):
        name, _colon, value = line.partition(b":")
        if name.lower().startswith(b"x-comunik-demo-"):
            demo[name.decode().lower()] = value.decode().strip()
        else:
            kept.append(line)
    when = _WHEN.fullmatch(demo.get("x-comunik-demo-date", ""))
    if not when:
        raise ValueError(f"{path}: X-Comunik-Demo-Date must read 'today HH:MM' or 'N days ago HH:MM'")
    head = b"\n".join(kept)
    if len(_DATE_LINE.findall(head)) != 1:
        raise ValueError(f"{path}: one Date header expected")
    return _DemoFile(
        head=head,
        body=body,
        days=int(when.group(1) or 0),
        minutes=int(when.group(2)) * 60 + int(when.group(3)),
        flags=tuple(demo.get("x-comunik-demo-flags", "").split()),
    )


def demo_files(mailbox):
    """The demo .eml files of ``mailbox``, in APPEND order."""
    return sorted((DEMO_MAIL_DIR / mailbox.partition("@")[0]).glob("*.eml"))


def _aware(now):
    return now if now.tzinfo is not None and now.utcoffset() is not None else now.astimezone()


def _demo_clock(now, demos):
    """(days ago, minutes of the day) -> datetime; today's times are squeezed before ``now`` if it is early."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    latest_today = max(demo.minutes for demo in demos if demo.days == 0)
    room = (now - midnight).total_seconds() / 60 - 1
    scale = 1.0 if room >= latest_today else max(room, 0) / latest_today

    def clock(days, minutes):
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
    taken as local time. Message-IDs are those of the files: seeding twice gives the same emails.
    """
    now = _aware(now)
    files = {mailbox: [_read_demo_file(path) for path in demo_files(mailbox)] for mailbox in MAILBOXES}
    clock = _demo_clock(now, [demo for demos in files.values() for demo in demos])
    result = {}
    for mailbox, demos in files.items():
        mails = []
        for demo in demos:
            date = clock(demo.days, demo.minutes)
            date_line = b"Date: " + format_datetime(date).encode()
            head = _DATE_LINE.sub(lambda _match, line=date_line: line, demo.head)
            raw = (head + b"\n\n" + demo.body).replace(b"\n", b"\r\n")
            mails.append(DemoMail(raw=raw, flags=demo.flags, date=date))
        result[mailbox] = mails
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Benchmark messages
# ---------------------------------------------------------------------------------------------------------------------


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


def _subject_base(subject):
    return re.sub(r"^(\s*(re|tr|fwd?)\s*:\s*)+", "", subject, flags=re.IGNORECASE)


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
