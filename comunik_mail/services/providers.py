"""Mail provider presets: guess the IMAP/SMTP settings of a mailbox from its address.

Most French teams use a handful of providers (Gmail, Microsoft 365, OVH, the ISPs...).
Typing hosts, ports and encryption by hand is the main source of failed setups, so the
box form proposes them: from the address domain when it is the provider's own
(``@orange.fr``), else from the domain's MX records (a company domain hosted at OVH), else
the usual ``imap.<domain>`` / ``smtp.<domain>`` guess. A preset only fills the form: the
connection test still decides.

The MX query is a tiny stdlib DNS client (no new dependency); it never raises and gives
up after ~2 s, since the form must stay responsive when DNS is broken.
"""

import os
import socket
import struct
import time
from dataclasses import dataclass
from typing import NamedTuple

SSL = "ssl"
STARTTLS = "starttls"
GENERIC = "generic"

RESOLV_CONF = "/etc/resolv.conf"
DNS_TIMEOUT = 2.0
_MX, _IN = 15, 1


class Preset(NamedTuple):
    """The settings proposed to the box form (field names match the account model's)."""

    provider_key: str
    name: str
    imap_host: str
    imap_port: int
    imap_encryption: str
    smtp_host: str
    smtp_port: int
    smtp_encryption: str
    oauth: str | None  # None | "google" | "microsoft"
    password_help: str

    @property
    def oauth_only(self):
        """Microsoft refuses passwords over IMAP/SMTP: the form must offer OAuth, not a password field."""
        return self.oauth == "microsoft"


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    imap_host: str
    imap_port: int
    imap_encryption: str
    smtp_host: str
    smtp_port: int
    smtp_encryption: str
    password_help: str
    domains: tuple = ()  # address domains the provider serves (@orange.fr)
    mx_suffixes: tuple = ()  # MX host suffixes that identify it for any other domain
    oauth: str | None = None

    def preset(self):
        return Preset(
            self.key,
            self.name,
            self.imap_host,
            self.imap_port,
            self.imap_encryption,
            self.smtp_host,
            self.smtp_port,
            self.smtp_encryption,
            self.oauth,
            self.password_help,
        )


# Sources: "ISPDB" is Thunderbird's autoconfig database (github.com/thunderbird/autoconfig,
# ispdb/<file>.xml, read 2026-11-29); MX suffixes are the providers' published MX hosts
# (ISPDB also lists them as domains for its MX-based lookup where noted).
PROVIDERS = (
    # ISPDB googlemail.com.xml: imap.gmail.com 993 SSL, smtp.gmail.com 465 SSL, OAuth2 or password.
    Provider(
        "gmail",
        "Gmail / Google Workspace",
        "imap.gmail.com",
        993,
        SSL,
        "smtp.gmail.com",
        465,
        SSL,
        "Google refuse le mot de passe habituel du compte : créez un mot de passe d'application "
        "(Gérer votre compte Google → Sécurité → Mots de passe des applications ; la validation en "
        "deux étapes doit être activée) et saisissez-le ici.",
        domains=("gmail.com", "googlemail.com"),
        mx_suffixes=("google.com", "googlemail.com"),  # aspmx.l.google.com, smtp.google.com
        oauth="google",
    ),
    # ISPDB office365.com.xml and hotmail.com.xml: outlook.office365.com 993 SSL,
    # smtp.office365.com 587 STARTTLS, OAuth2 only (Outlook.com also answers on smtp-mail.outlook.com).
    # MX: <tenant>.mail.protection.outlook.com (365), <domain>.olc.protection.outlook.com (Outlook.com).
    Provider(
        "microsoft",
        "Microsoft 365 / Outlook.com",
        "outlook.office365.com",
        993,
        SSL,
        "smtp.office365.com",
        587,
        STARTTLS,
        "Microsoft 365 et Outlook.com n'acceptent plus de mot de passe en IMAP/SMTP : "
        "la connexion se fait uniquement avec un compte Microsoft (OAuth).",
        domains=("outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr", "live.com", "live.fr", "msn.com"),
        mx_suffixes=("protection.outlook.com",),
        oauth="microsoft",
    ),
    # ISPDB ovh.net.xml: ssl0.ovh.net 993 SSL / 465 SSL (MX Plan). MX: mx*.mail.ovh.net.
    Provider(
        "ovh",
        "OVHcloud",
        "ssl0.ovh.net",
        993,
        SSL,
        "ssl0.ovh.net",
        465,
        SSL,
        "Saisissez le mot de passe de la boîte e-mail (pas celui du compte client OVHcloud) ; "
        "il se change dans l'espace client OVHcloud → Web Cloud → E-mails.",
        mx_suffixes=("ovh.net",),
    ),
    # ISPDB orange.fr.xml: imap.orange.fr 993 SSL, smtp.orange.fr 465 SSL, also wanadoo.fr. MX: smtp-in.orange.fr.
    Provider(
        "orange",
        "Orange",
        "imap.orange.fr",
        993,
        SSL,
        "smtp.orange.fr",
        465,
        SSL,
        "Saisissez le mot de passe de votre adresse Orange ; s'il est refusé, vérifiez dans les "
        "paramètres de Mail Orange que l'accès depuis un logiciel de messagerie est autorisé.",
        domains=("orange.fr", "wanadoo.fr"),
        mx_suffixes=("orange.fr",),
    ),
    # ISPDB free.fr.xml: imap.free.fr 993 SSL, smtp.free.fr 465 SSL. MX: mx1.free.fr, mx2.free.fr.
    Provider(
        "free",
        "Free",
        "imap.free.fr",
        993,
        SSL,
        "smtp.free.fr",
        465,
        SSL,
        "Saisissez le mot de passe de votre adresse Free (celui du webmail, distinct de celui de "
        "l'Espace Abonné) ; vérifiez dans l'Espace Abonné, rubrique e-mail, que l'accès IMAP est activé.",
        domains=("free.fr",),
        mx_suffixes=("free.fr",),
    ),
    # ISPDB sfr.fr.xml: imap.sfr.fr 993 SSL, smtp.sfr.fr 465 SSL, also neuf.fr and club-internet.fr.
    Provider(
        "sfr",
        "SFR",
        "imap.sfr.fr",
        993,
        SSL,
        "smtp.sfr.fr",
        465,
        SSL,
        "Saisissez le mot de passe de votre adresse SFR (celui de SFR Mail) ; vérifiez dans les "
        "paramètres de SFR Mail que l'accès depuis un logiciel de messagerie est autorisé.",
        domains=("sfr.fr", "neuf.fr", "club-internet.fr"),
        mx_suffixes=("sfr.fr",),
    ),
    # Not in ISPDB. imap.bbox.fr 993 SSL (Thunderbird-derived host lists); smtp.bbox.fr is given as
    # 587 by Bouygues Telecom's help and by most published configs (some say 465): 587 STARTTLS kept.
    Provider(
        "bbox",
        "Bouygues Telecom (Bbox)",
        "imap.bbox.fr",
        993,
        SSL,
        "smtp.bbox.fr",
        587,
        STARTTLS,
        "Saisissez le mot de passe de votre adresse @bbox.fr (celui du webmail Bbox) ; il se "
        "réinitialise depuis l'Espace Client Bouygues Telecom.",
        domains=("bbox.fr",),
        mx_suffixes=("bbox.fr",),
    ),
    # ISPDB laposte.net.xml: imap.laposte.net 993 SSL, smtp.laposte.net 465 SSL.
    Provider(
        "laposte",
        "La Poste (laposte.net)",
        "imap.laposte.net",
        993,
        SSL,
        "smtp.laposte.net",
        465,
        SSL,
        "Saisissez le mot de passe de votre adresse laposte.net ; vérifiez dans les paramètres du "
        "webmail que l'accès depuis un logiciel de messagerie est autorisé.",
        domains=("laposte.net",),
        mx_suffixes=("laposte.net",),
    ),
    # IONOS help (and ISPDB 1und1.de.xml for the former 1&1 hosts): imap.ionos.fr 993 SSL,
    # smtp.ionos.fr 465 SSL (587 STARTTLS also offered). MX: mx00.ionos.fr, older mx00.kundenserver.de.
    Provider(
        "ionos",
        "IONOS",
        "imap.ionos.fr",
        993,
        SSL,
        "smtp.ionos.fr",
        465,
        SSL,
        "Saisissez le mot de passe de la boîte e-mail défini dans l'espace client IONOS "
        "(E-mail → votre adresse), pas celui du compte IONOS.",
        mx_suffixes=("ionos.fr", "ionos.de", "ionos.com", "ionos.co.uk", "ionos.es", "ionos.it", "kundenserver.de"),
    ),
    # ISPDB gandi.net.xml: mail.gandi.net 993 SSL, 465 SSL (587 STARTTLS also). MX: spool.mail.gandi.net.
    Provider(
        "gandi",
        "Gandi",
        "mail.gandi.net",
        993,
        SSL,
        "mail.gandi.net",
        465,
        SSL,
        "Saisissez le mot de passe de la boîte e-mail défini dans l'interface Gandi "
        "(Domaine → Boîtes e-mail), pas celui du compte Gandi.",
        domains=("gandi.net",),
        mx_suffixes=("gandi.net",),
    ),
    # Infomaniak's config assistant (config.infomaniak.com) and published configs: mail.infomaniak.com
    # 993 SSL, 465 SSL (587 STARTTLS also). MX: mta-gw.infomaniak.ch. Free addresses: ik.me, etik.com, ikmail.com.
    Provider(
        "infomaniak",
        "Infomaniak",
        "mail.infomaniak.com",
        993,
        SSL,
        "mail.infomaniak.com",
        465,
        SSL,
        "Saisissez le mot de passe de l'adresse e-mail défini dans le Manager Infomaniak (Service Mail), "
        "ou un mot de passe d'application si la double authentification est activée.",
        domains=("ik.me", "etik.com", "ikmail.com"),
        mx_suffixes=("infomaniak.ch", "infomaniak.com"),
    ),
    # ISPDB me.com.xml: imap.mail.me.com 993 SSL, smtp.mail.me.com 587 STARTTLS. MX: mx01.mail.icloud.com.
    Provider(
        "icloud",
        "iCloud",
        "imap.mail.me.com",
        993,
        SSL,
        "smtp.mail.me.com",
        587,
        STARTTLS,
        "Apple refuse le mot de passe de l'identifiant Apple : créez un « mot de passe pour app » sur "
        "appleid.apple.com (Connexion et sécurité → Mots de passe pour app) et saisissez-le ici.",
        domains=("icloud.com", "me.com", "mac.com"),
        mx_suffixes=("icloud.com",),
    ),
    # ISPDB yahoo.com.xml: imap.mail.yahoo.com 993 SSL, smtp.mail.yahoo.com 465 SSL. MX: *.am0.yahoodns.net.
    Provider(
        "yahoo",
        "Yahoo Mail",
        "imap.mail.yahoo.com",
        993,
        SSL,
        "smtp.mail.yahoo.com",
        465,
        SSL,
        "Yahoo refuse le mot de passe habituel : générez un mot de passe d'application (Infos sur le "
        "compte → Sécurité du compte → Générer un mot de passe d'application) et saisissez-le ici.",
        domains=("yahoo.fr", "yahoo.com", "ymail.com", "rocketmail.com"),
        mx_suffixes=("yahoodns.net",),
    ),
)

BY_KEY = {provider.key: provider for provider in PROVIDERS}
_BY_DOMAIN = {domain: provider for provider in PROVIDERS for domain in provider.domains}

GENERIC_NAME = "Autre serveur (IMAP/SMTP)"
GENERIC_HELP = (
    "Vérifiez l'adresse et le mot de passe de la boîte auprès de votre hébergeur ; certains exigent "
    "un mot de passe d'application ou l'activation de l'accès IMAP."
)
_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def normalize_domain(domain):
    """Lower-case ASCII (punycode) form of a mail domain, or None when it cannot be one.

    The same spelling then serves the table look-up, the DNS query and the guessed host names;
    IP literals, single labels and malformed labels are refused rather than guessed from.
    """
    if not isinstance(domain, str):
        return None
    domain = domain.strip().rstrip(".")
    if not domain or any(char.isspace() for char in domain):
        return None
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    for label in labels:
        if not 0 < len(label) <= 63 or not _LDH.issuperset(label) or label[0] == "-" or label[-1] == "-":
            return None
    return domain


def domain_of(email):
    """Normalized domain of a plain ``local@domain`` address, or None when malformed."""
    if not isinstance(email, str):
        return None
    email = email.strip()
    if email.count("@") != 1 or any(char.isspace() or ord(char) < 32 for char in email):
        return None
    local, domain = email.split("@")
    if not local:
        return None
    return normalize_domain(domain)


def provider_for_domain(domain):
    """The provider whose own addresses use ``domain`` (e.g. wanadoo.fr → Orange), else None."""
    return _BY_DOMAIN.get(normalize_domain(domain))


def provider_for_mx(mx_hosts):
    """The provider of the first recognized MX host (caller's order: most preferred first), else None.

    Suffixes match on label boundaries, so ``notgoogle.com`` is not Google.
    """
    for host in mx_hosts or ():
        if not isinstance(host, str):
            continue
        host = host.strip().rstrip(".").lower()
        for provider in PROVIDERS:
            if any(host == suffix or host.endswith("." + suffix) for suffix in provider.mx_suffixes):
                return provider
    return None


def generic_preset(domain):
    """The usual imap.<domain> / smtp.<domain> guess, implicit TLS on both (RFC 8314).

    ``domain`` must come from ``normalize_domain`` (ASCII, lower case), as ``suggest`` does.
    """
    return Preset(GENERIC, GENERIC_NAME, f"imap.{domain}", 993, SSL, f"smtp.{domain}", 465, SSL, None, GENERIC_HELP)


def suggest(email, mx_lookup=None):
    """Preset for ``email``: its domain's provider, else its MX hosts' provider, else the generic guess.

    ``mx_lookup(domain) -> [host, ...]`` defaults to a real DNS query (``lookup_mx``); it is only
    called for domains not in the table, and a failing one counts as "no MX". Returns None for a
    malformed address.
    """
    domain = domain_of(email)
    if domain is None:
        return None
    provider = _BY_DOMAIN.get(domain)
    if provider is None:
        try:
            mx_hosts = (mx_lookup or lookup_mx)(domain)
        except (OSError, ValueError):
            mx_hosts = []
        provider = provider_for_mx(mx_hosts)
    return provider.preset() if provider else generic_preset(domain)


# --- Minimal DNS MX client (RFC 1035), standard library only ---------------------------------


def build_mx_query(domain, query_id):
    """A recursive MX/IN query packet for the (already normalized, ASCII) ``domain``."""
    header = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # RD set, one question
    qname = b"".join(bytes([len(label)]) + label.encode("ascii") for label in domain.split(".")) + b"\x00"
    return header + qname + struct.pack("!HH", _MX, _IN)


def _read_name(data, offset):
    """(name, offset after it) for a possibly compressed name; ValueError on loops or overruns."""
    labels, end, jumps = [], None, 0
    while True:
        if offset >= len(data):
            raise ValueError("DNS name runs past the packet")
        length = data[offset]
        if length == 0:
            offset += 1
            break
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise ValueError("DNS pointer runs past the packet")
            jumps += 1
            if jumps > 32:
                raise ValueError("DNS compression loop")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length & 0xC0:
            raise ValueError("unknown DNS label type")
        label = data[offset + 1 : offset + 1 + length]
        if len(label) != length:
            raise ValueError("DNS label runs past the packet")
        labels.append(label.decode("ascii").lower())
        offset += 1 + length
    name = ".".join(labels)
    if len(name) > 253:
        raise ValueError("DNS name too long")
    return name, (end if end is not None else offset)


def parse_mx_response(data, query_id, domain):
    """MX host names of a DNS answer, most preferred first.

    Raises ValueError when the packet is not the answer to our question (wrong id, question or
    format) or reports a server failure, so that the caller can try the next resolver. NXDOMAIN
    and the null MX of RFC 7505 give [].
    """
    if len(data) < 12:
        raise ValueError("DNS packet too short")
    packet_id, flags, qdcount, ancount = struct.unpack("!HHHH", data[:8])
    if packet_id != query_id or not flags & 0x8000:
        raise ValueError("not the answer to our query")
    rcode = flags & 0x000F
    if rcode == 3:  # NXDOMAIN: the domain does not exist
        return []
    if rcode != 0:
        raise ValueError(f"DNS error code {rcode}")
    if qdcount != 1:
        raise ValueError("unexpected DNS question count")
    qname, offset = _read_name(data, 12)
    if qname != domain or data[offset : offset + 4] != struct.pack("!HH", _MX, _IN):
        raise ValueError("answer to another question")
    offset += 4
    records = []
    for _ in range(ancount):
        _owner, offset = _read_name(data, offset)
        if offset + 10 > len(data):
            break  # truncated answer (TC bit): keep the complete records
        rtype, rclass, _ttl, rdlength = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        if offset + rdlength > len(data):
            break
        if rtype == _MX and rclass == _IN and rdlength >= 3:
            (preference,) = struct.unpack("!H", data[offset : offset + 2])
            exchange, _ = _read_name(data, offset + 2)
            if exchange:  # "." is the null MX: no mail accepted
                records.append((preference, exchange))
        offset += rdlength
    return list(dict.fromkeys(name for _, name in sorted(records)))


def read_resolvers(path=RESOLV_CONF):
    """Name server addresses of resolv.conf, in order ([] when it cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(65536).splitlines()
    except OSError:
        return []
    servers = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1])
    return servers


def _query_one(server, packet, query_id, domain, deadline):
    """Ask one resolver over UDP; stray datagrams (other ids) are ignored until the deadline."""
    host, port = server if isinstance(server, tuple) else (server, 53)
    if not 0 < port < 65536:  # getaddrinfo would silently wrap it
        raise ValueError(f"bad resolver port {port}")
    family, socktype, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_DGRAM, flags=socket.AI_NUMERICHOST
    )[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.connect(address)
        sock.send(packet)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("DNS resolver did not answer")
            sock.settimeout(remaining)
            data = sock.recv(4096)
            if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == query_id:
                return parse_mx_response(data, query_id, domain)


def lookup_mx(domain, resolvers=None, timeout=DNS_TIMEOUT):
    """MX hosts of ``domain``, most preferred first; [] on any failure, within about ``timeout`` seconds.

    ``resolvers`` (addresses or ``(address, port)``) default to /etc/resolv.conf's; the time budget is
    shared between them so that a dead first resolver still leaves time for the next one.
    """
    domain = normalize_domain(domain)
    if domain is None:
        return []
    servers = list(resolvers) if resolvers is not None else (read_resolvers() or ["127.0.0.1"])
    if not servers:
        return []
    query_id = int.from_bytes(os.urandom(2), "big")
    packet = build_mx_query(domain, query_id)
    start = time.monotonic()
    for index, server in enumerate(servers):
        share = (start + timeout - time.monotonic()) / (len(servers) - index)
        if share <= 0:
            break
        try:
            return _query_one(server, packet, query_id, domain, time.monotonic() + share)
        except (OSError, ValueError, struct.error, IndexError):
            continue
    return []
