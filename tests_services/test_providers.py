"""services/providers.py: provider presets by domain and MX, and the stdlib DNS MX client.

No test sends a packet beyond 127.0.0.1: the network tests talk to a tiny UDP "resolver"
on loopback, and the default resolver list is replaced by a closed loopback port.
"""

import socket
import struct
import threading
import time

import pytest

from comunik_mail.services import providers

_read_resolvers = providers.read_resolvers


def closed_loopback_port():
    """A UDP port on 127.0.0.1 with (almost certainly) nobody listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch):
    """Any lookup that falls back to the system resolvers hits a closed loopback port instead."""
    port = closed_loopback_port()
    monkeypatch.setattr(providers, "read_resolvers", lambda path=providers.RESOLV_CONF: [("127.0.0.1", port)])


def no_mx(domain):
    raise AssertionError(f"MX lookup not expected for {domain}")


# --- The table ----------------------------------------------------------------------------------


def test_table_is_consistent():
    keys = [provider.key for provider in providers.PROVIDERS]
    assert len(keys) == len(set(keys)) and providers.GENERIC not in keys
    domains = [domain for provider in providers.PROVIDERS for domain in provider.domains]
    assert len(domains) == len(set(domains))
    suffixes = [suffix for provider in providers.PROVIDERS for suffix in provider.mx_suffixes]
    assert len(suffixes) == len(set(suffixes))
    for provider in providers.PROVIDERS:
        assert provider.name and provider.password_help and provider.mx_suffixes
        assert provider.imap_encryption in ("ssl", "starttls") and provider.smtp_encryption in ("ssl", "starttls")
        assert provider.imap_port in (993, 143) and provider.smtp_port in (465, 587)
        assert provider.oauth in (None, "google", "microsoft")
        for host in (provider.imap_host, provider.smtp_host, *provider.domains, *provider.mx_suffixes):
            assert providers.normalize_domain(host) == host


def test_oauth_flags():
    assert providers.suggest("a@gmail.com").oauth == "google"
    microsoft = providers.suggest("a@hotmail.fr")
    assert microsoft.oauth == "microsoft" and microsoft.oauth_only
    assert (microsoft.imap_host, microsoft.imap_port, microsoft.imap_encryption) == (
        "outlook.office365.com",
        993,
        "ssl",
    )
    assert (microsoft.smtp_host, microsoft.smtp_port, microsoft.smtp_encryption) == (
        "smtp.office365.com",
        587,
        "starttls",
    )
    assert all(p.oauth is None for p in providers.PROVIDERS if p.key not in ("gmail", "microsoft"))
    assert not providers.suggest("a@orange.fr").oauth_only


@pytest.mark.parametrize(
    "key, imap, smtp",
    [
        ("gmail", ("imap.gmail.com", 993, "ssl"), ("smtp.gmail.com", 465, "ssl")),
        ("ovh", ("ssl0.ovh.net", 993, "ssl"), ("ssl0.ovh.net", 465, "ssl")),
        ("orange", ("imap.orange.fr", 993, "ssl"), ("smtp.orange.fr", 465, "ssl")),
        ("free", ("imap.free.fr", 993, "ssl"), ("smtp.free.fr", 465, "ssl")),
        ("sfr", ("imap.sfr.fr", 993, "ssl"), ("smtp.sfr.fr", 465, "ssl")),
        ("bbox", ("imap.bbox.fr", 993, "ssl"), ("smtp.bbox.fr", 587, "starttls")),
        ("laposte", ("imap.laposte.net", 993, "ssl"), ("smtp.laposte.net", 465, "ssl")),
        ("ionos", ("imap.ionos.fr", 993, "ssl"), ("smtp.ionos.fr", 465, "ssl")),
        ("gandi", ("mail.gandi.net", 993, "ssl"), ("mail.gandi.net", 465, "ssl")),
        ("infomaniak", ("mail.infomaniak.com", 993, "ssl"), ("mail.infomaniak.com", 465, "ssl")),
        ("icloud", ("imap.mail.me.com", 993, "ssl"), ("smtp.mail.me.com", 587, "starttls")),
        ("yahoo", ("imap.mail.yahoo.com", 993, "ssl"), ("smtp.mail.yahoo.com", 465, "ssl")),
    ],
)
def test_provider_settings(key, imap, smtp):
    preset = providers.BY_KEY[key].preset()
    assert preset.provider_key == key
    assert (preset.imap_host, preset.imap_port, preset.imap_encryption) == imap
    assert (preset.smtp_host, preset.smtp_port, preset.smtp_encryption) == smtp


def test_password_help_is_french_and_specific():
    assert "Mots de passe des applications" in providers.BY_KEY["gmail"].password_help
    assert "appleid.apple.com" in providers.BY_KEY["icloud"].password_help
    assert "mot de passe d'application" in providers.BY_KEY["yahoo"].password_help
    assert "OAuth" in providers.BY_KEY["microsoft"].password_help
    for key in ("ovh", "ionos", "gandi", "infomaniak"):
        assert "mot de passe de la boîte" in providers.BY_KEY[key].password_help or "Manager" in (
            providers.BY_KEY[key].password_help
        )


# --- By domain, by MX, generic --------------------------------------------------------------------


@pytest.mark.parametrize("key, domain", [(p.key, domain) for p in providers.PROVIDERS for domain in p.domains], ids=str)
def test_found_by_address_domain_without_dns(key, domain):
    assert providers.provider_for_domain(domain).key == key
    assert providers.suggest(f"contact@{domain}", mx_lookup=no_mx).provider_key == key


MX_EXAMPLES = {
    "gmail": ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "smtp.google.com", "gmail-smtp-in.l.googlemail.com"],
    "microsoft": ["exemple-fr.mail.protection.outlook.com", "hotmail-com.olc.protection.outlook.com"],
    "ovh": ["mx1.mail.ovh.net", "mx4.mail.ovh.net.", "mx0.ovh.net"],
    "orange": ["smtp-in.orange.fr"],
    "free": ["mx1.free.fr", "mx2.free.fr"],
    "sfr": ["mx.sfr.fr"],
    "bbox": ["mx.bbox.fr"],
    "laposte": ["mx.laposte.net"],
    "ionos": ["mx00.ionos.fr", "mx01.ionos.de", "mx00.ionos.com", "mx00.kundenserver.de"],
    "gandi": ["spool.mail.gandi.net", "fb.mail.gandi.net"],
    "infomaniak": ["mta-gw.infomaniak.ch", "mx.infomaniak.com"],
    "icloud": ["mx01.mail.icloud.com", "mx02.mail.icloud.com"],
    "yahoo": ["mta5.am0.yahoodns.net", "mta7.am0.yahoodns.net"],
}


def test_every_provider_has_mx_examples():
    assert set(MX_EXAMPLES) == set(providers.BY_KEY)


@pytest.mark.parametrize("key, mx", [(key, mx) for key, hosts in MX_EXAMPLES.items() for mx in hosts], ids=str)
def test_found_by_mx(key, mx):
    assert providers.provider_for_mx([mx]).key == key
    assert providers.provider_for_mx([mx.upper() + " "]).key == key
    seen = []
    preset = providers.suggest("contact@pme-exemple.fr", mx_lookup=lambda domain: seen.append(domain) or [mx])
    assert seen == ["pme-exemple.fr"] and preset == providers.BY_KEY[key].preset()


@pytest.mark.parametrize(
    "mx", ["notgoogle.com", "google.com.evil.example", "mx.fakeovh.net", "ovh.net.example.org", "mail.example.fr", ""]
)
def test_mx_suffix_matches_on_label_boundaries(mx):
    assert providers.provider_for_mx([mx]) is None


def test_first_recognized_mx_wins():
    assert providers.provider_for_mx(["mx.exemple.fr", "mx1.mail.ovh.net", "aspmx.l.google.com"]).key == "ovh"
    assert providers.provider_for_mx([None, 42, "aspmx.l.google.com"]).key == "gmail"
    assert providers.provider_for_mx([]) is None and providers.provider_for_mx(None) is None


@pytest.mark.parametrize(
    "mx_lookup",
    [
        lambda domain: ["mx.exemple-pme.fr", "mx2.exemple-pme.fr"],
        lambda domain: [],
        lambda domain: (_ for _ in ()).throw(OSError("réseau coupé")),
        lambda domain: (_ for _ in ()).throw(ValueError("réponse illisible")),
    ],
    ids=["unknown-mx", "no-mx", "oserror", "valueerror"],
)
def test_unknown_domain_gets_the_generic_guess(mx_lookup):
    assert providers.suggest("Contact@Exemple-PME.fr", mx_lookup=mx_lookup) == providers.Preset(
        "generic",
        "Autre serveur (IMAP/SMTP)",
        "imap.exemple-pme.fr",
        993,
        "ssl",
        "smtp.exemple-pme.fr",
        465,
        "ssl",
        None,
        providers.GENERIC_HELP,
    )


@pytest.mark.parametrize(
    "email, key",
    [
        ("  Jean.Dupont@GMAIL.COM  ", "gmail"),
        ("jean@Wanadoo.Fr.", "orange"),
        ("\tjean@laposte.net\n", "laposte"),
        ("jean@ＧＭＡＩＬ.com", "gmail"),  # full-width letters fold to ASCII under IDNA
        ("jean@gmail。com", "gmail"),  # ideographic full stop is a label separator
    ],
)
def test_case_and_whitespace(email, key):
    assert providers.suggest(email, mx_lookup=no_mx).provider_key == key


def test_idn_domain_is_queried_and_guessed_in_punycode():
    seen = []
    preset = providers.suggest("contact@Café-Paris.fr", mx_lookup=lambda domain: seen.append(domain) or [])
    assert seen == ["xn--caf-paris-d4a.fr"]
    assert (preset.imap_host, preset.smtp_host) == ("imap.xn--caf-paris-d4a.fr", "smtp.xn--caf-paris-d4a.fr")
    assert providers.provider_for_domain("ÉCOLE.fr") is None
    assert providers.normalize_domain("École.FR") == "xn--cole-9oa.fr"
    hosted = providers.suggest("contact@boulangerie-hélène.fr", mx_lookup=lambda domain: ["mx1.mail.ovh.net"])
    assert hosted.provider_key == "ovh"


@pytest.mark.parametrize(
    "email",
    [
        None,
        42,
        "",
        "   ",
        "pas une adresse",
        "@gmail.com",
        "jean@",
        "jean@@gmail.com",
        "jean@gmail@com",
        "jean dupont@gmail.com",
        "jean@gm ail.com",
        "jean@localhost",
        "jean@[192.0.2.1]",
        "jean@192.0.2.1",
        "jean@exemple..fr",
        "jean@.exemple.fr",
        "jean@-exemple.fr",
        "jean@exemple-.fr",
        "jean@exem_ple.fr",
        "jean@" + "a" * 64 + ".fr",
        "jean@" + ".".join(["abcdefghij"] * 25) + ".fr",
        "jean@exemple.fr\x00",
        "Jean <jean@gmail.com>",
    ],
)
def test_malformed_address_gives_none(email):
    assert providers.suggest(email, mx_lookup=no_mx) is None


def test_default_lookup_is_lookup_mx(monkeypatch):
    seen = []
    monkeypatch.setattr(providers, "lookup_mx", lambda domain: seen.append(domain) or ["mx0.mail.ovh.net"])
    assert providers.suggest("contact@cabinet-martin.fr").provider_key == "ovh"
    assert seen == ["cabinet-martin.fr"]


# --- DNS packets ----------------------------------------------------------------------------------

# A recorded-style answer for "exemple.fr MX", id 0xBEEF: two MX out of preference order, the
# second exchange compressed against the first ("mx1" + pointer to "mail.ovh.net" at offset 46).
RECORDED_ANSWER = (
    b"\xbe\xef\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00"  # id, QR RD RA, 1 question, 2 answers
    b"\x07exemple\x02fr\x00\x00\x0f\x00\x01"  # question at offset 12: exemple.fr MX IN
    b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x0e\x10\x00\x14"  # answer 1 (offset 28): owner -> 12, TTL 3600, 20 bytes
    b"\x00\x0a\x03mx2\x04mail\x03ovh\x03net\x00"  # preference 10, mx2.mail.ovh.net ("mail" at offset 46)
    b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x0e\x10\x00\x08"  # answer 2 (offset 60): 8 bytes
    b"\x00\x05\x03mx1\xc0\x2e"  # preference 5, mx1 + pointer to offset 46
)


def test_build_mx_query_bytes():
    assert providers.build_mx_query("exemple.fr", 0xBEEF) == (
        b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07exemple\x02fr\x00\x00\x0f\x00\x01"
    )


def test_parse_recorded_answer():
    assert providers.parse_mx_response(RECORDED_ANSWER, 0xBEEF, "exemple.fr") == [
        "mx1.mail.ovh.net",
        "mx2.mail.ovh.net",
    ]


def answer(query, records=(), rcode=0, extra=b""):
    """A response to ``query``: its id and question, then ``(preference, exchange)`` MX records."""
    body = b""
    for preference, exchange in records:
        rdata = struct.pack("!H", preference) + b"".join(
            bytes([len(label)]) + label.encode() for label in exchange.split(".") if label
        )
        rdata += b"\x00"
        body += b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 300, len(rdata)) + rdata
    header = query[:2] + struct.pack("!HHHHH", 0x8180 | rcode, 1, len(records) + (1 if extra else 0), 0, 0)
    return header + query[12:] + extra + body


QUERY = providers.build_mx_query("exemple.fr", 0x1234)
CNAME_RECORD = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 2) + b"\xc0\x0c"


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            answer(QUERY, [(10, "b.mx.fr"), (10, "a.mx.fr"), (0, "c.mx.fr"), (10, "a.mx.fr")]),
            ["c.mx.fr", "a.mx.fr", "b.mx.fr"],
        ),
        (answer(QUERY, [(0, "")]), []),  # null MX (RFC 7505)
        (answer(QUERY, rcode=3), []),  # NXDOMAIN
        (answer(QUERY), []),  # no MX record
        (answer(QUERY, [(5, "MX.Exemple.FR")], extra=CNAME_RECORD), ["mx.exemple.fr"]),  # other record types skipped
        (answer(QUERY, [(5, "a.mx.fr"), (9, "b.mx.fr")])[:-5], ["a.mx.fr"]),  # truncated: complete records kept
    ],
)
def test_parse_answers(data, expected):
    assert providers.parse_mx_response(data, 0x1234, "exemple.fr") == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x12\x34\x81\x80",
        answer(QUERY, [(5, "mx.fr")], rcode=2),  # SERVFAIL
        answer(QUERY, [(5, "mx.fr")], rcode=5),  # REFUSED
        b"\x99\x99" + answer(QUERY, [(5, "mx.fr")])[2:],  # another query's id
        QUERY,  # our own query echoed back (QR bit clear)
        answer(providers.build_mx_query("autre.fr", 0x1234), [(5, "mx.fr")]),  # another question
        answer(QUERY)[:20],  # question cut
        answer(QUERY)[:12] + b"\xc0\x0c\x00\x0f\x00\x01",  # question name pointing at itself
        answer(QUERY)[:12] + b"\x7fabc",  # label past the end
        answer(QUERY)[:12] + b"\x80abc",  # reserved label type
        answer(QUERY, [(5, "mx.fr")])[:-7] + b"\x02\xffx\x02fr\x00",  # non-ASCII label in the exchange
    ],
)
def test_parse_rejects_other_or_broken_packets(data):
    with pytest.raises(ValueError):
        providers.parse_mx_response(data, 0x1234, "exemple.fr")


# --- DNS over UDP on loopback ---------------------------------------------------------------------


class FakeResolver:
    """A UDP server on 127.0.0.1 that answers each query through ``respond(query) -> [datagrams]``."""

    def __init__(self, respond):
        self.respond, self.queries = respond, []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.address = ("127.0.0.1", self.sock.getsockname()[1])
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                query, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.queries.append(query)
            for datagram in self.respond(query):
                self.sock.sendto(datagram, client)

    def close(self):
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def fake_resolver():
    started = []

    def start(respond):
        started.append(FakeResolver(respond))
        return started[-1]

    yield start
    for server in started:
        server.close()


def test_lookup_over_udp(fake_resolver):
    server = fake_resolver(lambda query: [answer(query, [(20, "mx2.mail.ovh.net"), (10, "mx1.mail.ovh.net")])])
    assert providers.lookup_mx("Exemple.FR", resolvers=[server.address]) == ["mx1.mail.ovh.net", "mx2.mail.ovh.net"]
    (query,) = server.queries
    assert query[2:] == providers.build_mx_query("exemple.fr", 0)[2:]  # same packet, random id
    assert providers.suggest("contact@exemple.fr", mx_lookup=lambda d: providers.lookup_mx(d, [server.address])) == (
        providers.BY_KEY["ovh"].preset()
    )


def test_lookup_ignores_stray_datagrams(fake_resolver):
    def respond(query):
        stray = bytes([query[0] ^ 0xFF, query[1]]) + answer(query, [(1, "evil.example")])[2:]
        return [b"x", stray, answer(query, [(5, "aspmx.l.google.com")])]

    server = fake_resolver(respond)
    assert providers.lookup_mx("exemple.fr", resolvers=[server.address]) == ["aspmx.l.google.com"]


def test_lookup_tries_the_next_resolver(fake_resolver):
    failing = fake_resolver(lambda query: [answer(query, rcode=2)])
    working = fake_resolver(lambda query: [answer(query, [(5, "mx1.free.fr")])])
    closed = ("127.0.0.1", closed_loopback_port())
    assert providers.lookup_mx("exemple.fr", resolvers=[closed, failing.address, working.address]) == ["mx1.free.fr"]
    assert len(failing.queries) == 1


def test_lookup_unreachable_resolver_gives_empty_quickly():
    started = time.monotonic()
    assert providers.lookup_mx("exemple.fr", resolvers=[("127.0.0.1", closed_loopback_port())]) == []
    assert time.monotonic() - started < 1


def test_lookup_silent_resolver_gives_up_at_the_timeout(fake_resolver):
    server = fake_resolver(lambda query: [])
    started = time.monotonic()
    assert providers.lookup_mx("exemple.fr", resolvers=[server.address, server.address], timeout=0.3) == []
    assert 0.25 < time.monotonic() - started < 1.5
    assert len(server.queries) == 2  # the budget was shared, the second resolver was asked too


@pytest.mark.parametrize("resolvers", [[], ["pas-une-ip"], ["256.1.1.1"], [("127.0.0.1", 70000)]])
def test_lookup_bad_resolver_entries_give_empty(resolvers):
    assert providers.lookup_mx("exemple.fr", resolvers=resolvers) == []


@pytest.mark.parametrize("domain", [None, "", "localhost", "exem ple.fr", "1.2.3.4"])
def test_lookup_bad_domain_gives_empty_without_query(domain, fake_resolver):
    server = fake_resolver(lambda query: [answer(query, [(5, "mx.fr")])])
    assert providers.lookup_mx(domain, resolvers=[server.address]) == []
    assert server.queries == []


def test_lookup_defaults_to_the_system_resolvers(monkeypatch, fake_resolver):
    server = fake_resolver(lambda query: [answer(query, [(5, "mx01.mail.icloud.com")])])
    monkeypatch.setattr(providers, "read_resolvers", lambda path=providers.RESOLV_CONF: [server.address])
    assert providers.lookup_mx("exemple.fr") == ["mx01.mail.icloud.com"]


def test_read_resolvers(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# généré\nsearch exemple.fr\nnameserver 192.0.2.53\n;nameserver 192.0.2.1\n"
        "nameserver   2001:db8::53  \noptions timeout:1\nnameserver\n",
        encoding="utf-8",
    )
    assert _read_resolvers(str(conf)) == ["192.0.2.53", "2001:db8::53"]
    assert _read_resolvers(str(tmp_path / "absent")) == []
