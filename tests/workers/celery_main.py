"""``python -m tests.workers.celery_main -A <module> worker …``: Celery's own command line, on the test's clock.

The worker subprocesses of these tests run whichever Celery app they are given (the test one or
``workers.celery_app`` itself), so the frozen test clock (``tests/clock.py``) is started here, before
Celery or the portal reads the time, rather than in one of those apps.
"""

from __future__ import annotations

import os
import sys

from tests import clock

if __name__ == "__main__":
    if os.environ.get(clock.ENV_OFFSET):
        clock.start()
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
