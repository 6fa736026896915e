from . import comunik_mail_assign_wizard
from . import mail_compose_message
from . import sms_composer
from . import comunik_mail_compose
from . import comunik_mail_snooze_wizard
from . import comunik_mail_merge_wizard
