"""Load comunik_mail's ORM-free modules without the addon: these tests need no Odoo at all."""

import os
import sys
import types
from pathlib import Path

import pytest

from comunik_support import servers

ADDON = Path(__file__).resolve().parent.parent / "comunik_mail"


# Empty parent packages so that "comunik_mail.services.x" never runs the addon's __init__ (which imports odoo).
for package, folder in (("comunik_mail", ADDON), ("comunik_mail.services", ADDON / "services")):
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module


@pytest.fixture(scope="session")
def real_servers():
    """The real throwaway Dovecot and SMTP sink, trusted through COMUNIK_MAIL_CA_FILE."""
    dovecot, smtp = servers.get_servers()
    os.environ["COMUNIK_MAIL_CA_FILE"] = dovecot.ca_file
    return dovecot, smtp
