from . import (
    test_account_connection,
    test_account_french,
    test_account_primary,
    test_account_security,
    test_account_tour,
    test_sync,
)
