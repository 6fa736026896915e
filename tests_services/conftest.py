"""Load comunik_mail's ORM-free modules by path: these tests need no Odoo at all."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parent.parent / "comunik_mail"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# Empty parent packages so that "comunik_mail.services.x" never runs the addon's __init__ (which imports odoo).
for package, folder in (("comunik_mail", ADDON), ("comunik_mail.services", ADDON / "services")):
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module

servers = _load("comunik_mail_test_servers", ADDON / "tests" / "servers.py")


@pytest.fixture(scope="session")
def real_servers():
    """The real throwaway Dovecot and SMTP sink, trusted through COMUNIK_MAIL_CA_FILE."""
    dovecot, smtp = servers.get_servers()
    os.environ["COMUNIK_MAIL_CA_FILE"] = dovecot.ca_file
    return dovecot, smtp
