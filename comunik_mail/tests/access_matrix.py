"""The access policy of the addon, as data: who may call what over the external API.

``enumerate_api`` lists, from the registry, every public method the addon defines or overrides
(plus the standard RPC entry points of its own models) and every field a client could write
(stored, or with an inverse) that the addon owns. ``METHODS`` and ``FIELDS`` classify each of them
with a *policy*: the name of a predicate over (role, target record) saying whether the call must
succeed. ``test_access_matrix`` checks the enumeration equals the classification first, so a new
method or field cannot ship unclassified, then calls every cell over JSON-2.

Adding a method or field: add its (model, name) to METHODS or FIELDS with the predicate of PREDICATES
that states who may call it (and, for a method taking arguments, its arguments in
``TestAccessMatrix.method_args``); a new model also needs TARGETS (its fixture records) and CREATES.
"""

from odoo.fields import Field
from odoo.models import LOG_ACCESS_COLUMNS
from odoo.service.model import get_public_method

ADDON = "odoo.addons.comunik_mail"
CRUD = ("read", "search_read", "web_read", "write", "create", "unlink", "copy", "onchange")
#: Standard entry points that take no ids (called with a domain or values).
MODEL_LEVEL_CRUD = {"search_read", "create", "onchange"}

ROLES = (
    "portal",
    "internal",  # internal user, no Email group
    "email_user",  # Email / User, no mailbox
    "member",  # member of the department of shared box S
    "dispatcher",  # dispatcher of S
    "owner",  # owner of personal box P
    "email_admin",  # Email / Administrator without Settings
    "settings_admin",  # Settings + Email / Administrator
)
ADMINS = {"email_admin", "settings_admin"}
EMAIL_USERS = {"email_user", "member", "dispatcher", "owner"} | ADMINS
#: Roles given CRM rights (so that crm.lead cells test our field, not CRM's ACL).
CRM_ROLES = {"member", "settings_admin"}

#: Target record key -> mailbox it belongs to (S shared, P personal); the wizards (own, on_cS) are on cS.
BOX_OF = {
    "S": "S",
    "P": "P",
    "cS": "S",
    "cP": "P",
    "stS": "S",
    "fS": "S",
    "mS": "S",
    "own": "S",
    "on_cS": "S",
    "qP": "P",
    "scS": "S",
    "new_S": "S",
    "new_P": "P",
    "mbS": "S",
    "snooze_cS": "S",
    "mgS": "S",
    "merge_on_cS": "S",
    "aS": "S",
}
SEES = {"S": {"member", "dispatcher"} | ADMINS, "P": {"owner"} | ADMINS}
MANAGES = {"S": ADMINS, "P": {"owner"} | ADMINS}
#: P has no department: nobody can be assigned its emails, so nobody can dispatch them.
DISPATCHES = {"S": {"dispatcher"} | ADMINS, "P": set()}
#: The member is the assignee of cS.
WORKS = {"S": {"member", "dispatcher"} | ADMINS, "P": ADMINS}

PREDICATES = {
    "nobody": lambda role, target: False,
    "anyone": lambda role, target: True,
    "internal": lambda role, target: role != "portal",
    "email_users": lambda role, target: role in EMAIL_USERS,
    "admins": lambda role, target: role in ADMINS,
    "settings": lambda role, target: role == "settings_admin",
    "readers": lambda role, target: role in SEES[BOX_OF[target]],
    "readers_of_P": lambda role, target: role in SEES["P"],
    "managers": lambda role, target: role in MANAGES[BOX_OF[target]],
    "dispatchers": lambda role, target: role in DISPATCHES[BOX_OF[target]],
    "workers": lambda role, target: role in WORKS[BOX_OF[target]],
    "own": lambda role, target: role in EMAIL_USERS and target == "own",
    "template_readers": lambda role, target: role in ADMINS or (role in EMAIL_USERS and target == "Tpub"),
    "crm_users": lambda role, target: role in CRM_ROLES,
    # Not asserted either way (e.g. onchange of a new record): only "no 5xx, nothing changed if refused".
    "any_outcome": lambda role, target: None,
}
#: Policies whose allowed calls would reach a mail server: only refused roles are called here
#: (allowed ones are covered by test_account_connection / test_sync against the real Dovecot).
NETWORK = "network"
#: Policies where a refused role may also get a harmless no-op (success with nothing changed in the database).
NOOP_OK = "noop_ok"

ACCOUNT, CONVERSATION = "comunik.mail.account", "comunik.mail.conversation"
TEMPLATE, TEMPLATE_FOLDER = "comunik.mail.template", "comunik.mail.template.folder"
LABEL, BANNER, FOLDER = "comunik.mail.label", "comunik.mail.banner.config", "comunik.mail.folder"
STATISTICS, WIZARD = "comunik.mail.statistics", "comunik.mail.assign.wizard"
LOG = "comunik.mail.connection.log"
QUARANTINE = "comunik.mail.quarantine"
SENT_COPY = "comunik.mail.sent.copy"
COMPOSE = "comunik.mail.compose"
MEMBER = "comunik.mail.account.member"
SNOOZE = "comunik.mail.snooze.wizard"
MERGE, MERGE_WIZARD = "comunik.mail.merge", "comunik.mail.merge.wizard"
ACTIVITY = "comunik.mail.conversation.activity"

#: Target records of each model's cells (``own``/``other``/``self`` resolve per role).
TARGETS = {
    ACCOUNT: ("S", "P"),
    CONVERSATION: ("cS", "cP"),
    LABEL: ("L",),
    BANNER: ("own", "other"),
    TEMPLATE: ("Tpub", "Tdraft"),
    TEMPLATE_FOLDER: ("F",),
    FOLDER: ("fS",),
    STATISTICS: ("stS",),
    WIZARD: ("own",),
    COMPOSE: ("own",),  # the role's own « Nouveau message » from S, to a customer
    MEMBER: ("mbS",),  # the member's capacity in S
    SNOOZE: ("own",),  # the role's own « Mettre en attente » of cS
    MERGE: ("mgS",),  # cS3 merged into cS
    MERGE_WIZARD: ("own",),  # the role's own wizard merging cS2 into cS
    ACTIVITY: ("aS",),  # the dispatcher viewing cS
    "mail.compose.message": ("mcS",),  # a full composer on cS, of another user
    LOG: ("log",),
    QUARANTINE: ("qP",),
    SENT_COPY: ("scS",),
    "ir.mail_server": ("smtpP",),
    "crm.lead": ("lead",),
    "hr.department": ("D",),
    "mail.message": ("mS",),
    "mail.template": ("mtpub",),
    "sms.template": ("stpub",),
    "res.users": ("self", "other"),
}

#: "fields": write is exercised field by field (FIELDS); "create": per create variant (CREATES).
METHODS = {
    (ACCOUNT, "read"): "readers",
    (ACCOUNT, "search_read"): "readers",
    (ACCOUNT, "web_read"): "readers",
    (ACCOUNT, "write"): "fields",
    (ACCOUNT, "create"): "create",
    (ACCOUNT, "unlink"): "managers",
    (ACCOUNT, "copy"): "managers",
    (ACCOUNT, "onchange"): "any_outcome",  # + no leak of another box's server settings (test_onchange_leak)
    (ACCOUNT, "action_test_connection"): ("managers", NETWORK),
    # Managers get the provider's consent page (test_oauth follows it end to end).
    (ACCOUNT, "action_oauth_connect"): ("managers", NETWORK),
    (ACCOUNT, "action_sync"): ("managers", NETWORK),
    (ACCOUNT, "action_refresh_folders"): ("managers", NETWORK),
    (ACCOUNT, "sync_now"): ("managers", NETWORK),
    (ACCOUNT, "get_sync_state"): "readers",
    (ACCOUNT, "action_set_primary"): "readers",
    (CONVERSATION, "read"): "readers",
    (CONVERSATION, "search_read"): "readers",
    (CONVERSATION, "web_read"): "readers",
    (CONVERSATION, "web_search_read"): "readers",
    (CONVERSATION, "write"): "fields",
    (CONVERSATION, "create"): "create",
    (CONVERSATION, "unlink"): "admins",
    (CONVERSATION, "copy"): "nobody",  # conversations come from the sync (superuser) only
    (CONVERSATION, "onchange"): "any_outcome",
    (CONVERSATION, "action_assign"): "dispatchers",
    (CONVERSATION, "action_start"): "workers",
    (CONVERSATION, "action_to_process"): "workers",
    (CONVERSATION, "action_close"): "workers",
    (CONVERSATION, "action_reopen"): "workers",
    (CONVERSATION, "action_mark_read"): "readers",
    (CONVERSATION, "action_resend_failed"): "readers",
    (CONVERSATION, "action_open_inbox"): "email_users",
    (CONVERSATION, "message_post"): "readers",
    # « Mettre en attente jusqu'au… » / « Reprendre »: whoever may work the conversation (the member is cS's assignee).
    (CONVERSATION, "action_snooze"): "workers",
    (CONVERSATION, "action_unsnooze"): "workers",
    (CONVERSATION, "web_read_group"): "readers",  # the inbox's grouped list and kanban (hides snoozed emails)
    # Collision detection: announcing « viewing / replying » and asking what arrived since, on readable ones only.
    (CONVERSATION, "comunik_set_activity"): "readers",
    (CONVERSATION, "comunik_newer_messages"): "readers",
    (LABEL, "read"): "email_users",
    (LABEL, "search_read"): "email_users",
    (LABEL, "web_read"): "email_users",
    (LABEL, "write"): "fields",
    (LABEL, "create"): "create",
    (LABEL, "unlink"): "admins",
    (LABEL, "copy"): "admins",
    (LABEL, "onchange"): "any_outcome",
    (LABEL, "action_apply_to_existing"): "admins",
    (BANNER, "read"): "own",
    (BANNER, "search_read"): "own",
    (BANNER, "web_read"): "own",
    (BANNER, "write"): "fields",
    (BANNER, "create"): "create",
    (BANNER, "unlink"): "nobody",  # no unlink right: one configuration per user, for good
    (BANNER, "copy"): "nobody",  # a copy would be another user's configuration
    (BANNER, "onchange"): "any_outcome",
    (BANNER, "get_banner"): "email_users",
    (BANNER, "action_open_config"): "email_users",
    (TEMPLATE, "read"): "template_readers",
    (TEMPLATE, "search_read"): "template_readers",
    (TEMPLATE, "web_read"): "template_readers",
    (TEMPLATE, "copy_data"): "template_readers",  # returns values only
    (TEMPLATE, "write"): "fields",
    (TEMPLATE, "create"): "create",
    (TEMPLATE, "unlink"): "admins",
    (TEMPLATE, "copy"): "admins",
    (TEMPLATE, "onchange"): "any_outcome",
    (TEMPLATE, "action_publish"): "admins",
    (TEMPLATE, "action_save_draft"): "admins",
    (TEMPLATE, "action_add_folder"): "admins",
    (TEMPLATE, "get_placeholders"): "email_users",
    (TEMPLATE_FOLDER, "read"): "email_users",
    (TEMPLATE_FOLDER, "search_read"): "email_users",
    (TEMPLATE_FOLDER, "web_read"): "email_users",
    (TEMPLATE_FOLDER, "write"): "fields",
    (TEMPLATE_FOLDER, "create"): "create",
    (TEMPLATE_FOLDER, "unlink"): "admins",
    (TEMPLATE_FOLDER, "copy"): "admins",
    (TEMPLATE_FOLDER, "onchange"): "any_outcome",
    (TEMPLATE_FOLDER, "action_open_templates"): "any_outcome",  # an action, no data
    (FOLDER, "read"): "readers",
    (FOLDER, "search_read"): "readers",
    (FOLDER, "web_read"): "readers",
    (FOLDER, "action_toggle_sync"): "managers",
    (FOLDER, "write"): "fields",
    (FOLDER, "create"): "create",
    (FOLDER, "unlink"): "nobody",
    (FOLDER, "copy"): "nobody",
    (FOLDER, "onchange"): "any_outcome",
    (STATISTICS, "read"): "readers",
    (STATISTICS, "search_read"): "readers",
    (STATISTICS, "web_read"): "readers",
    (STATISTICS, "write"): "fields",
    (STATISTICS, "create"): "create",
    (STATISTICS, "unlink"): "nobody",
    (STATISTICS, "copy"): "nobody",
    (STATISTICS, "onchange"): "any_outcome",
    (WIZARD, "read"): "own",
    (WIZARD, "search_read"): "own",
    (WIZARD, "web_read"): "own",
    (WIZARD, "write"): "fields",
    (WIZARD, "create"): "create",
    (WIZARD, "unlink"): "nobody",
    (WIZARD, "copy"): "own",  # a copy of one's own wizard (create right)
    (WIZARD, "onchange"): "any_outcome",
    (WIZARD, "default_get"): "any_outcome",  # defaults from the context only
    # On the role's own wizard of cS: roles that cannot read cS see it empty, assigning nothing.
    (WIZARD, "action_assign"): ("dispatchers", NOOP_OK),
    # The audit trail of connection tests: admins read it, the addon alone writes it.
    (LOG, "read"): "admins",
    (LOG, "search_read"): "admins",
    (LOG, "web_read"): "admins",
    (LOG, "write"): "fields",
    (LOG, "create"): "create",
    (LOG, "unlink"): "nobody",
    (LOG, "copy"): "nobody",
    (LOG, "onchange"): "any_outcome",
    # Emails the sync could not store: the box's managers see them and retry them (« Réessayer »).
    (QUARANTINE, "read"): "managers",
    (QUARANTINE, "search_read"): "managers",
    (QUARANTINE, "web_read"): "managers",
    (QUARANTINE, "write"): "fields",
    (QUARANTINE, "create"): "create",
    (QUARANTINE, "unlink"): "admins",
    (QUARANTINE, "copy"): "nobody",
    (QUARANTINE, "onchange"): "any_outcome",
    (QUARANTINE, "action_retry"): ("managers", NETWORK),
    # Copies for the Sent folder waiting for the next sync: admins may look, the addon alone writes them.
    (SENT_COPY, "read"): "admins",
    (SENT_COPY, "search_read"): "admins",
    (SENT_COPY, "web_read"): "admins",
    (SENT_COPY, "write"): "fields",
    (SENT_COPY, "create"): "create",
    (SENT_COPY, "unlink"): "nobody",
    (SENT_COPY, "copy"): "nobody",
    (SENT_COPY, "onchange"): "any_outcome",
    # Writing from a box: those who may read it (owner, members and dispatchers, admins), re-checked at sending.
    (COMPOSE, "read"): "own",
    (COMPOSE, "search_read"): "own",
    (COMPOSE, "web_read"): "own",
    (COMPOSE, "write"): "fields",
    (COMPOSE, "create"): "create",
    (COMPOSE, "unlink"): "nobody",
    (COMPOSE, "copy"): "readers",  # a copy is a create: the box is checked again
    (COMPOSE, "onchange"): "any_outcome",
    (COMPOSE, "default_get"): "any_outcome",  # defaults of the context's records, read with the user's rights
    (COMPOSE, "action_send"): "readers",  # tests never reach a mail server (Odoo's _disable_send)
    # Capacities of the members of a box (automatic assignment): its readers see them, Email admins set them.
    (MEMBER, "read"): "readers",
    (MEMBER, "search_read"): "readers",
    (MEMBER, "web_read"): "readers",
    (MEMBER, "write"): "fields",
    (MEMBER, "create"): "create",
    (MEMBER, "unlink"): "admins",
    (MEMBER, "copy"): "admins",
    (MEMBER, "onchange"): "any_outcome",
    (SNOOZE, "read"): "own",
    (SNOOZE, "search_read"): "own",
    (SNOOZE, "web_read"): "own",
    (SNOOZE, "write"): "fields",
    (SNOOZE, "create"): "create",
    (SNOOZE, "unlink"): "nobody",
    (SNOOZE, "copy"): "own",  # a copy of one's own wizard (create right)
    (SNOOZE, "onchange"): "any_outcome",
    (SNOOZE, "default_get"): "any_outcome",  # defaults from the context only
    # On the role's own wizard of cS: roles that cannot read cS see it empty, snoozing nothing.
    (SNOOZE, "action_apply"): ("workers", NOOP_OK),
    # Merge (cS with cS2; cP with cP2), undo (cS3 was merged into cS, cP3 into cP), split (mS, one of cS's
    # two emails): those who may work every conversation involved.
    (CONVERSATION, "action_merge"): "workers",
    (CONVERSATION, "action_unmerge"): "workers",
    ("mail.message", "action_comunik_split"): "workers",
    # The merge log: Email admins read it, the merge alone writes it.
    (MERGE, "read"): "admins",
    (MERGE, "search_read"): "admins",
    (MERGE, "web_read"): "admins",
    (MERGE, "write"): "fields",
    (MERGE, "create"): "create",
    (MERGE, "unlink"): "nobody",
    (MERGE, "copy"): "nobody",
    (MERGE, "onchange"): "any_outcome",
    (MERGE_WIZARD, "read"): "own",
    (MERGE_WIZARD, "search_read"): "own",
    (MERGE_WIZARD, "web_read"): "own",
    (MERGE_WIZARD, "write"): "fields",
    (MERGE_WIZARD, "create"): "create",
    (MERGE_WIZARD, "unlink"): "nobody",
    (MERGE_WIZARD, "copy"): "own",  # roles that cannot read cS copy it empty
    (MERGE_WIZARD, "onchange"): "any_outcome",
    (MERGE_WIZARD, "default_get"): "any_outcome",  # defaults from the context only
    # On the role's own wizard (cS2 into cS): roles that cannot read cS see no conversation and are refused.
    (MERGE_WIZARD, "action_merge"): "workers",
    # Who is viewing / replying: the readers of the box read them, comunik_set_activity alone writes them.
    (ACTIVITY, "read"): "readers",
    (ACTIVITY, "search_read"): "readers",
    (ACTIVITY, "web_read"): "readers",
    (ACTIVITY, "write"): "fields",
    (ACTIVITY, "create"): "create",
    (ACTIVITY, "unlink"): "nobody",
    (ACTIVITY, "copy"): "nobody",
    (ACTIVITY, "onchange"): "any_outcome",
    # The send guard of Odoo's full composer: a composer is its creator's alone (transient model).
    ("mail.compose.message", "action_send_mail"): "nobody",
    ("crm.lead", "action_open_comunik_conversations"): "any_outcome",  # an action, no data
    ("mail.thread", "mail_allowed_qweb_expressions"): "anyone",  # a constant whitelist
    # Opening a composer copies the published templates for its model (sudo): internal users only.
    ("mail.compose.message", "default_get"): ("internal", NOOP_OK),
    ("sms.composer", "default_get"): ("internal", NOOP_OK),
}

_ACCOUNT_MANAGED = (
    "email sync_period create_lead response_delay mark_read_on_assign account_type active connection_test_count "
    "mail_provider auth_method sent_copy "
    "mail_provider auth_method sender_name_mode sender_display_name signature_mode signature "
    "assign_mode assign_online_only "
    "imap_host imap_port imap_user imap_password imap_encryption smtp_host smtp_port smtp_user smtp_password "
    "smtp_encryption smtp_same_credentials validity_state validity_message validity_date"
)
_THREAD = "message_follower_ids message_ids message_partner_ids website_message_ids"
_ACCOUNT_SUPERUSER = (
    "fetchmail_server_id mail_server_id folder_ids conversation_ids sync_enabled sync_state sync_date "
    "sync_error_message sync_error_date sync_error_count sync_retry_date sync_auth_failure_count "
    "sync_attempt_date quarantine_ids folders_listed_date assign_last_user_id assign_pass_count"
)
_CONVERSATION_SUPERUSER = (
    "account_id active assign_date category close_date date_first date_last deadline email_from "
    "first_response_date first_response_hours is_new last_user_id lead_id priority state subject user_id "
    "sender_date receive_error folder_id assign_method "
    "snooze_until snooze_date snooze_user_id snooze_wake_on_reply snooze_paused_hours " + _THREAD
)
_STATISTICS = (
    "account_id close_date conversation_id date deadline department_id first_response_avg first_response_hours "
    "first_response_median is_overdue overdue_count overdue_rate resolution_avg resolution_hours resolution_median "
    "state user_id assign_method assign_hours assign_avg assign_median open_load"
)


def _policies(model, names, policy):
    return dict.fromkeys(((model, name) for name in names.split()), policy)


FIELDS = {
    **_policies(ACCOUNT, _ACCOUNT_MANAGED, "managers"),
    **_policies(ACCOUNT, "category owner_id department_ids dispatcher_ids", "admins"),
    # Lines of comunik.mail.account.member: Email admins only (its ACL), whoever owns the box.
    (ACCOUNT, "assign_member_ids"): "admins",
    **_policies(MEMBER, "account_id user_id capacity", "admins"),
    **_policies(ACCOUNT, _ACCOUNT_SUPERUSER, "nobody"),
    # mail.thread on a box: following it is editing it (managers); relinking followers or messages needs
    # Odoo's own rights on mail.followers / mail.message, which only Settings admins have.
    (ACCOUNT, "message_partner_ids"): "managers",
    **_policies(ACCOUNT, "message_follower_ids message_ids website_message_ids", "settings"),
    **_policies(CONVERSATION, "label_ids partner_id", "readers"),
    **_policies(CONVERSATION, _CONVERSATION_SUPERUSER, "nobody"),
    **_policies(CONVERSATION, "merged_into_id merged_ids", "nobody"),  # action_merge / action_unmerge only
    **_policies(
        MERGE,
        "source_id target_id user_id merge_date message_ids target_first_response_date unmerge_date unmerge_user_id",
        "nobody",
    ),
    # The role's own merge wizard: the target among its conversations (cS2), the confirmation; action_merge re-checks.
    **_policies(MERGE_WIZARD, "target_id confirm_customers", "own"),
    (MERGE_WIZARD, "conversation_ids"): "readers_of_P",  # adds cP to the role's own wizard on cS
    **_policies(LABEL, "active color name recipient_emails", "admins"),
    **_policies(BANNER, "show_unassigned show_assigned show_assigned_closed show_in_progress", "own"),
    **_policies(BANNER, "show_to_process show_overdue show_new show_snoozed", "own"),
    **_policies(BANNER, "user_id", "nobody"),
    **_policies(TEMPLATE, "active body_html body_text folder_id internal_name name sender_name", "admins"),
    **_policies(TEMPLATE, "state subject template_type", "admins"),
    # The Odoo copies are kept in sync by publishing, never linked by hand.
    **_policies(TEMPLATE, "mail_template_ids sms_template_ids", "nobody"),
    **_policies(TEMPLATE_FOLDER, "name parent_id child_ids template_ids", "admins"),
    **_policies(TEMPLATE_FOLDER, "complete_name parent_path", "nobody"),  # computed by the ORM
    # Sync progress and the server's list: the sync and « Actualiser les dossiers » write them, the managers
    # choose the synced folders with action_toggle_sync.
    **_policies(
        FOLDER,
        "account_id last_uid name uidvalidity scan_watermark is_inbox special_use sync_enabled is_sent "
        "excluded_by_default present sync_error",
        "nobody",
    ),
    # Written by the sync alone.
    **_policies(QUARANTINE, "account_id folder_id uidvalidity uid message_id reason date attempt_count", "nobody"),
    **_policies(SENT_COPY, "account_id message_id raw sent_date error attempt_count", "nobody"),
    **_policies(STATISTICS, _STATISTICS, "nobody"),  # a SQL view
    **_policies(WIZARD, "priority user_id", "own"),  # its action_assign re-checks
    (WIZARD, "conversation_ids"): "readers_of_P",  # adds cP to the role's own wizard on cS
    **_policies(SNOOZE, "choice custom_date custom_hour wake_on_reply", "own"),  # its action_apply re-checks
    (SNOOZE, "conversation_ids"): "readers_of_P",
    **_policies(COMPOSE, "mode subject body close_after_send partner_to_ids partner_cc_ids partner_bcc_ids", "own"),
    (COMPOSE, "template_id"): "own",  # only the Email app's published templates are rendered
    # The send guard's marker of one's own composer (an API client may leave it out: no guard).
    (COMPOSE, "comunik_seen_message_id"): "own",
    ("mail.compose.message", "comunik_seen_message_id"): "nobody",  # another user's composer
    # Who is viewing / replying: written by comunik_set_activity alone.
    **_policies(ACTIVITY, "conversation_id user_id activity date", "nobody"),
    # Another box, another conversation (both P's), a lead: only for whoever may write from / read them.
    (COMPOSE, "account_id"): "readers_of_P",
    (COMPOSE, "conversation_id"): "readers_of_P",
    (COMPOSE, "lead_id"): "crm_users",
    # The newest attachment of the database, whoever's it is: refused unless readable (test_compose covers both).
    (COMPOSE, "attachment_ids"): "any_outcome",
    **_policies(LOG, "user_id account_id email protocol host port result", "nobody"),
    ("crm.lead", "comunik_conversation_ids"): "nobody",
    # Odoo's ACL: ir.mail_server is Settings only; a Settings admin may share a box's server on purpose.
    ("ir.mail_server", "comunik_private"): "settings",
    # Odoo's HR officers (hr ACL): none of the roles here.
    ("hr.department", "resource_calendar_id"): "nobody",
    **_policies(
        "mail.message",
        "comunik_account_id comunik_folder_id comunik_uid comunik_uidvalidity comunik_content_digest "
        "comunik_sender_date comunik_degraded comunik_degraded_reason comunik_outgoing",
        "nobody",
    ),
    ("mail.template", "comunik_template_id"): "nobody",
    ("sms.template", "comunik_template_id"): "nobody",
    ("res.users", "comunik_primary_account_id"): "settings",  # users choose theirs with action_set_primary
}

#: create variants: model -> (variant, policy); values are built by the test from the variant name.
CREATES = {
    ACCOUNT: (("personal_self", "email_users"), ("personal_other", "admins"), ("shared", "admins")),
    CONVERSATION: (("in_S", "nobody"),),  # conversations come from the sync (superuser) only
    LABEL: (("new", "admins"),),
    BANNER: (("for_other", "nobody"),),
    TEMPLATE: (("new", "admins"),),
    TEMPLATE_FOLDER: (("new", "admins"),),
    FOLDER: (("new", "nobody"),),
    STATISTICS: (("new", "nobody"),),
    WIZARD: (("on_cS", "readers"),),
    COMPOSE: (("new_S", "readers"), ("new_P", "readers")),
    MEMBER: (("new", "admins"),),
    SNOOZE: (("snooze_cS", "readers"),),
    MERGE: (("new", "nobody"),),
    MERGE_WIZARD: (("merge_on_cS", "readers"),),
    LOG: (("new", "nobody"),),
    QUARANTINE: (("new", "nobody"),),
    SENT_COPY: (("new", "nobody"),),
    ACTIVITY: (("new", "nobody"),),
}


def _addon_classes(model):
    """The classes of ``model`` defined by this addon (its own, or its extensions of Odoo's)."""
    mro = type(model).mro()
    return [cls for cls in mro if cls.__module__.startswith(ADDON) and getattr(cls, "_name", None) == model._name]


def enumerate_api(env):
    """(model, method) and (model, field) pairs a client can reach and that this addon is responsible for."""
    methods, fields = set(), set()
    for name in sorted(env.registry):
        model = env[name]
        classes = _addon_classes(model)
        if not classes:
            continue
        own_fields = set()
        for cls in classes:
            for attr, value in vars(cls).items():
                if isinstance(value, Field):
                    own_fields.add(attr)
                elif callable(value) and _is_public(model, attr):
                    methods.add((name, attr))
        if name.startswith("comunik.") and not model._abstract:  # an AbstractModel has no records to reach
            methods.update((name, method) for method in CRUD)
            own_fields = set(model._fields)
        for fname in own_fields:
            field = model._fields[fname]
            if fname in ("id", "display_name", *LOG_ACCESS_COLUMNS):
                continue
            # The ORM ignores view readonly: anything stored or with an inverse can be sent by a client.
            if field.store or field.inverse:
                fields.add((name, fname))
    return methods, fields


def _is_public(model, name):
    try:
        get_public_method(model, name)
    except Exception:  # noqa: BLE001 - AccessError (private) or AttributeError
        return False
    return True


def policy_of(entry):
    """(predicate name, flags) of a METHODS/FIELDS value."""
    if isinstance(entry, tuple):
        return entry[0], set(entry[1:])
    return entry, set()
