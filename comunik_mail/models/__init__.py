from . import res_users
from . import comunik_mail_account
