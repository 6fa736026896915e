from . import (
    comunik_mail_account,
    comunik_mail_account_sync,
    comunik_mail_conversation,
    comunik_mail_folder,
    mail_message,
    res_users,
)
