"""Imports every area's Celery tasks so that the worker and eager mode know them by name."""

from portal.accounts import tasks as account_tasks  # noqa: F401
from portal.affiliation import tasks as affiliation_tasks  # noqa: F401
from portal.campaigns import tasks as campaign_tasks  # noqa: F401
from portal.conventions import tasks as convention_tasks  # noqa: F401
from portal.notifications import tasks as notification_tasks  # noqa: F401
from portal.subscriptions import tasks as subscription_tasks  # noqa: F401
from portal.training import tasks as training_tasks  # noqa: F401
from portal.workqueue import tasks as workqueue_tasks  # noqa: F401
