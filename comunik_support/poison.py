"""Malformed emails that once stopped (or could stop) a mailbox, as raw bytes.

``POISON_EMAILS`` is a table of ``(kind, description, raw_bytes_factory)``: each factory
returns the raw RFC 822 bytes as an IMAP server would serve them (CRLF unless the point is
otherwise). Factories are lazy so that importing this module is free and the heavy ones
(``HEAVY``) are only built by the tests that want them. ``normal_email(i)`` gives ordinary
emails to mix with them.

Standard library only: usable from pytest, Odoo tests, benchmarks and demo scripts.
"""

import base64

#: Message-ID shared by ``normal_email(0)`` and the "different content, same Message-ID" poison.
DUPLICATE_ID = "<normal-0@clients.example>"
#: Kinds whose factory allocates tens of megabytes: left out of quick runs.
HEAVY = frozenset({"size-60mb"})

_DATE = "Tue, 04 Mar 2025 10:15:00 +0100"


def normal_email(i, date=_DATE, message_id=None, in_reply_to=None, body=None):
    """An ordinary, valid email number ``i`` (unique Message-ID unless given)."""
    message_id = message_id or f"<normal-{i}@clients.example>"
    lines = [
        f"From: Client {i} <client{i}@clients.example>",
        "To: support@comunik.test",
        f"Subject: Demande {i}",
        f"Date: {date}",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    text = body if body is not None else f"Bonjour, voici ma demande numéro {i}.\nMerci."
    return _crlf("\n".join(lines) + "\n\n" + text + "\n").encode("utf-8")


def _crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _mail(headers="", body="Corps.\n", date=_DATE, message_id=None, content_type=None, encoding="utf-8"):
    """A simple email with ``headers`` (str lines) replacing/adding to the defaults."""
    default = {
        "From": "Expediteur <exp@poison.example>",
        "To": "support@comunik.test",
        "Subject": "Poison",
        "Date": date,
        "Message-ID": message_id or "<poison@poison.example>",
    }
    extra = [line for line in headers.split("\n") if line]
    names = {line.split(":", 1)[0].strip().lower() for line in extra if ":" in line}
    lines = [f"{name}: {value}" for name, value in default.items() if name.lower() not in names and value is not None]
    lines += extra
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    text = _crlf("\n".join(lines) + "\n\n" + body)
    return text.encode(encoding, "surrogateescape") if isinstance(text, str) else text


def _multipart(parts, boundary="b0", subtype="mixed", close=True, headers=""):
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    if close:
        body += f"--{boundary}--\n"
    return _mail(headers, body, content_type=f'multipart/{subtype}; boundary="{boundary}"')


def _attachment(i, size=8):
    data = base64.b64encode(bytes([i % 256]) * size).decode()
    return (
        f'Content-Type: application/octet-stream; name="f{i}.bin"\n'
        f'Content-Disposition: attachment; filename="f{i}.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{data}"
    )


def _tiny_parts(count):
    """``count`` tiny MIME parts, built directly as bytes (fast even for 20,000)."""
    chunks = [_mail(content_type='multipart/mixed; boundary="t"', body="").rstrip(b"\r\n") + b"\r\n\r\n"]
    part = b"--t\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    chunks.append(part * count)
    chunks.append(b"--t--\r\n")
    return b"".join(chunks)


def _many_attachments(count):
    chunks = [_mail(content_type='multipart/mixed; boundary="a"', body="").rstrip(b"\r\n") + b"\r\n\r\n"]
    chunks.append(b"--a\r\nContent-Type: text/plain\r\n\r\nVoir les pieces jointes.\r\n")
    for i in range(count):
        chunks.append(b"--a\r\n" + _crlf(_attachment(i)).encode() + b"\r\n")
    chunks.append(b"--a--\r\n")
    return b"".join(chunks)


def _deep_multipart(depth):
    head = "".join(f'--d{i}\nContent-Type: multipart/mixed; boundary="d{i + 1}"\n\n' for i in range(depth))
    tail = "".join(f"--d{i}--\n" for i in reversed(range(depth)))
    body = head + f"--d{depth}\nContent-Type: text/plain\n\nfond\n--d{depth}--\n" + tail
    return _mail(body=body, content_type='multipart/mixed; boundary="d0"')


def _rfc822_recursion(depth):
    inner = "From: x@y.z\nSubject: niveau final\n\nfin\n"
    for level in range(depth):
        inner = f"From: x@y.z\nSubject: niveau {level}\nContent-Type: message/rfc822\n\n{inner}"
    return _mail(body=inner.split("\n\n", 1)[1], content_type="message/rfc822")


def _big(size):
    head = _mail(body="", content_type="application/octet-stream").rstrip(b"\r\n") + b"\r\n\r\n"
    line = b"A" * 76 + b"\r\n"
    return head + line * (size // len(line) + 1)


def _folded_id(length):
    chunks = ["x" * 60 for _ in range(length // 60)]
    return "<" + "\n ".join(chunks) + "@poison.example>"


def _with_raw_header(name, value):
    return _mail().replace(b"Subject: Poison", name + b": " + value)


POISON_EMAILS = [
    # ------------------------------------------------------------------ dates
    ("date-year-9999", "Date in year 9999 (deadline overflow)", lambda: _mail(date="Fri, 31 Dec 9999 23:59:59 -0100")),
    ("date-year-0", "Date in year 0", lambda: _mail(date="Mon, 01 Jan 0000 00:00:00 +0000")),
    ("date-1900", "Date in 1900", lambda: _mail(date="Mon, 01 Jan 1900 00:00:00 +0000")),
    ("date-far-future", "Date in 2400", lambda: _mail(date="Sat, 01 Jan 2400 10:00:00 +0000")),
    ("date-garbage", "Date header is free text", lambda: _mail(date="demain vers 10h, promis")),
    ("date-tz-9999", "Impossible timezone offset -9999", lambda: _mail(date="Tue, 04 Mar 2025 10:15:00 -9999")),
    ("date-missing", "No Date header", lambda: _mail(date=None)),
    ("date-huge", "Date header of 100 kB", lambda: _mail(date="Tue, 04 Mar 2025 10:15:00 +0100 " + "z" * 100_000)),
    # ------------------------------------------------------------------ ids
    (
        "id-folded-4000",
        "Message-ID folded over 60+ lines, ~4,000 characters",
        lambda: _mail(message_id=_folded_id(4000)),
    ),
    ("id-empty", "Empty Message-ID header", lambda: _mail(headers="Message-ID: ")),
    ("id-missing", "No Message-ID header", lambda: _mail().replace(b"Message-ID: <poison@poison.example>\r\n", b"")),
    (
        "id-duplicate-different-content",
        "Same Message-ID as normal_email(0), different content",
        lambda: normal_email(0, message_id=DUPLICATE_ID, body="Un tout autre message."),
    ),
    ("id-non-ascii", "Non-ASCII (raw UTF-8) Message-ID", lambda: _mail(message_id="<réunion-é@poison.example>")),
    ("id-nul", "NUL byte inside the Message-ID", lambda: _mail(message_id="<po\x00ison@poison.example>")),
    (
        "id-references-huge",
        "References with 5,000 ids",
        lambda: _mail(headers="References: " + " ".join(f"<r{i}@p.example>" for i in range(5000))),
    ),
    # ------------------------------------------------------------------ encodings
    ("charset-unknown", "Unknown charset label", lambda: _mail(content_type="text/plain; charset=x-klingon-42")),
    (
        "utf8-invalid",
        "Invalid UTF-8 declared as UTF-8",
        lambda: _mail(content_type="text/plain; charset=utf-8") + b"\xc3\x28\xff\xfe",
    ),
    (
        "base64-broken",
        "Broken base64 attachment",
        lambda: _multipart(
            ["Content-Type: text/plain\n\ntexte", _attachment(1).rsplit("\n\n", 1)[0] + "\n\n!!!@@@###QUJD\nRE=F==="]
        ),
    ),
    (
        "qp-broken",
        "Broken quoted-printable body",
        lambda: _mail(
            headers="Content-Transfer-Encoding: quoted-printable",
            body="caf=E9 =ZZ =\n= =3",
            content_type="text/plain; charset=latin-1",
        ),
    ),
    (
        "headers-8bit",
        "Raw 8-bit Latin-1 bytes in headers",
        lambda: _with_raw_header(b"Subject", "Réunion été".encode("latin-1")),
    ),
    (
        "rfc2047-garbage",
        "RFC 2047 encoded words with bad charset and data",
        lambda: _mail(headers="Subject: =?x-nope?B?@@@?= =?utf-8?Q?=FF=FE?= =?utf-8?B?w6k?="),
    ),
    ("charset-codec", "A non-text codec as charset", lambda: _mail(content_type="text/plain; charset=base64")),
    # ------------------------------------------------------------------ structure
    ("no-headers", "Body only, no header at all", lambda: b"juste du texte\r\nsans en-tete\r\n"),
    ("only-headers", "Headers and no body", lambda: _mail(body="").rstrip(b"\r\n") + b"\r\n"),
    (
        "boundary-missing",
        "multipart without boundary parameter",
        lambda: _mail(body="--x\n\ntexte\n--x--\n", content_type="multipart/mixed"),
    ),
    (
        "boundary-unclosed",
        "Boundary never closed",
        lambda: _multipart(["Content-Type: text/plain\n\nun", "Content-Type: text/plain\n\ndeux"], close=False),
    ),
    ("parts-20000", "20,000 tiny MIME parts", lambda: _tiny_parts(20000)),
    ("nesting-500", "multipart nested 500 levels deep", lambda: _deep_multipart(500)),
    ("rfc822-recursion", "message/rfc822 nested 300 levels deep", lambda: _rfc822_recursion(300)),
    (
        "part-truncated",
        "Last part cut in the middle of its base64",
        lambda: _multipart(["Content-Type: text/plain\n\ntexte", _attachment(2, 3000)[:-777]], close=False),
    ),
    ("empty", "Zero bytes", lambda: b""),
    ("attachments-2000", "2,000 attachments", lambda: _many_attachments(2000)),
    # ------------------------------------------------------------------ bytes and sizes
    ("nul-bytes", "NUL bytes in headers and body", lambda: _mail(headers="Subject: a\x00b", body="co\x00rps\x00\n")),
    ("bare-lf", "Bare LF line ends", lambda: _mail().replace(b"\r\n", b"\n")),
    ("bare-cr", "Bare CR line ends", lambda: _mail().replace(b"\r\n", b"\r")),
    ("header-1mb", "One header line of 1 MB", lambda: _mail(headers="X-Junk: " + "j" * 1_000_000)),
    (
        "subject-1mb-encoded",
        "Subject of 1 MB of encoded words",
        lambda: _mail(headers="Subject: " + "=?utf-8?q?=C3=A9?= " * 50_000),
    ),
    ("from-garbage", "From without any address", lambda: _mail(headers='From: "<<<@@@>>>" ;;; ,,, <>')),
    ("binary-garbage", "Random-looking binary", lambda: bytes(range(256)) * 64),
    ("size-60mb", "A 60 MB message (above the size cap)", lambda: _big(60 * 1024 * 1024)),
]
