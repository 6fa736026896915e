from . import comunik_mail_assign_wizard
from . import mail_compose_message
from . import sms_composer
from . import comunik_mail_compose
from . import comunik_mail_collision_mixin
from . import comunik_mail_compose_collision
from . import mail_compose_message_collision
