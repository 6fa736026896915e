"""The addon's README.rst is what Odoo renders (docutils) as the module description: it must be clean RST."""

from pathlib import Path

from docutils.core import publish_string

README = Path(__file__).resolve().parent.parent / "comunik_mail" / "README.rst"


def test_readme_rst_renders_without_any_docutils_message():
    # halt_level 2: any warning or error raises instead of being printed at install.
    settings = {"halt_level": 2, "report_level": 1, "output_encoding": "unicode", "_disable_config": True}
    html = publish_string(source=README.read_text(), writer_name="html", settings_overrides=settings)
    assert "Tester la connexion" in html
