from . import res_users
from . import hr_department
from . import comunik_mail_account
from . import comunik_mail_account_sync
from . import comunik_mail_folder
from . import comunik_mail_conversation
from . import comunik_mail_conversation_workflow
from . import mail_message
