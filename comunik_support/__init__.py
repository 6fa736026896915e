"""Shared test, demo and benchmark support code (no Odoo imports)."""
