from . import comunik_mail_account, res_users
