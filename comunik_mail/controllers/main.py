"""Odoo's Google / Microsoft OAuth callbacks, for the incoming server of a comunik box.

Odoo's controllers (google_gmail, microsoft_outlook) do the whole consent flow and store the grant on the
server named in the signed ``state``; these subclasses add what a box needs: only a manager of the box may
complete its sign-in, the box's outgoing server gets the same grant, and the browser comes back to the box.
"""

from werkzeug.exceptions import Forbidden

from odoo.http import request

from odoo.addons.google_gmail.controllers.main import GoogleGmailController
from odoo.addons.microsoft_outlook.controllers.main import MicrosoftOutlookController


def _box_of(record):
    """The comunik box a fetchmail.server backs (empty for any other record of the OAuth flow)."""
    if record._name != "fetchmail.server":
        return request.env["comunik.mail.account"]
    return record._comunik_accounts()[:1]


def _check_box_manager(record):
    """The signed state names a server; whoever follows the link must still manage the box behind it."""
    box = _box_of(record)
    if box and not box.with_user(request.env.user)._can_manage():
        raise Forbidden()
    if record._name == "ir.mail_server":
        boxes = request.env["comunik.mail.account"].sudo().with_context(active_test=False)
        if boxes.search_count([("mail_server_id", "=", record.id)]):
            raise Forbidden()  # a box's outgoing server gets its grant from the incoming one, never directly


def _after_sign_in(record, refresh_token, token_field):
    box = _box_of(record)
    if box and refresh_token and record[token_field] == refresh_token:
        box._oauth_signed_in(request.env.user)


def _box_url(record):
    box = _box_of(record)
    return f"/odoo/action-comunik_mail.action_comunik_mail_account/{box.id}" if box else None


class ComunikGmailController(GoogleGmailController):
    def _get_gmail_record(self, model_name, rec_id, csrf_token):
        record = super()._get_gmail_record(model_name, rec_id, csrf_token)
        _check_box_manager(record)
        return record

    def _check_email_and_redirect_to_gmail_record(self, access_token, expiration, refresh_token, record):
        response = super()._check_email_and_redirect_to_gmail_record(access_token, expiration, refresh_token, record)
        _after_sign_in(record, refresh_token, "google_gmail_refresh_token")
        return response

    def _get_redirect_url(self, record):
        return _box_url(record) or super()._get_redirect_url(record)


class ComunikOutlookController(MicrosoftOutlookController):
    def _get_outlook_record(self, model_name, rec_id, csrf_token):
        record = super()._get_outlook_record(model_name, rec_id, csrf_token)
        _check_box_manager(record)
        return record

    def _check_email_and_redirect_to_outlook_record(self, access_token, expiration, refresh_token, record):
        response = super()._check_email_and_redirect_to_outlook_record(access_token, expiration, refresh_token, record)
        _after_sign_in(record, refresh_token, "microsoft_outlook_refresh_token")
        return response

    def _get_redirect_url(self, record):
        return _box_url(record) or super()._get_redirect_url(record)
