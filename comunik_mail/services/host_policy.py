"""Which mail hosts a non-administrator may make the Odoo server connect to.

A mailbox's host is typed by its owner, and the Odoo server then opens a TCP
connection to it (connection test, sync, replies). Without a policy any user
could probe the company's internal network from the Odoo server. By default
only public addresses are allowed for non-admins; an admin lists the private
hosts or networks they may also reach (e.g. the company's own mail server).
"""

import ipaddress
import socket
from dataclasses import dataclass

ALLOWED = "allowed"
PRIVATE = "private"
UNRESOLVED = "unresolved"


@dataclass
class HostVerdict:
    code: str
    addresses: tuple = ()

    @property
    def ok(self):
        return self.code != PRIVATE


def parse_allowed(text):
    """Admin setting -> (host names, networks): comma, semicolon or whitespace separated entries."""
    names, networks = set(), []
    for item in (text or "").replace(";", ",").replace("\n", ",").replace(" ", ",").split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return names, networks


def resolve(host, port):
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(info[4][0] for info in infos))


def check_host(host, port, allowed_text="", resolver=resolve):
    """Verdict for a non-admin: every address of the host must be public, or explicitly allowed.

    A host that does not resolve is let through: connecting to it fails anyway, with the
    ordinary "host not found" message.
    """
    host = (host or "").strip().lower().rstrip(".")
    names, networks = parse_allowed(allowed_text)
    if host in names:
        return HostVerdict(ALLOWED)
    addresses = resolver(host, port)
    if not addresses:
        return HostVerdict(UNRESOLVED)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        if ip.is_global or any(ip in network for network in networks if network.version == ip.version):
            continue
        return HostVerdict(PRIVATE, addresses)
    return HostVerdict(ALLOWED, addresses)
