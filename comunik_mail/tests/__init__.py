from . import test_account_connection
from . import test_account_french
from . import test_account_primary
from . import test_account_security
from . import test_account_tour
from . import test_sync
from . import test_workflow
from . import test_reply
