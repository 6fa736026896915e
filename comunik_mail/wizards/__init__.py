from . import comunik_mail_assign_wizard
