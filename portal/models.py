"""Imports every model so that SQLAlchemy and Alembic see the whole schema."""

from portal.access.models import AccessRequest  # noqa: F401
from portal.accounts.import_models import AccountImport, AccountImportResult  # noqa: F401
from portal.accounts.models import Mandate, ThrottleCounter, User, secretary_collectivite  # noqa: F401
from portal.affiliation.models import AffiliationDecision, AffiliationStatusChange  # noqa: F401
from portal.api.models import ApiToken  # noqa: F401
from portal.audit.models import AuditEvent  # noqa: F401
from portal.campaigns.models import Campaign, CampaignAnswer, CampaignMessage, CampaignTask  # noqa: F401
from portal.catalogue.models import ContributionRate, PayrollDeclaration, Service, Tariff  # noqa: F401
from portal.common.versions import DataVersion  # noqa: F401
from portal.conventions.models import (  # noqa: F401,E501
    Axis,
    AxisAction,
    Convention,
    ConventionAlert,
    ConventionDocument,
    ConventionParty,
    Meeting,
    Partner,
    Signatory,
)
from portal.notifications.models import Notification, NotificationPreference, OutboxAttachment, OutboxEmail  # noqa: F401,E501
from portal.registry.models import Collectivite, HeadcountDeclaration  # noqa: F401
from portal.subscriptions.models import Document, School, Subscription, SubscriptionEvent  # noqa: F401
from portal.training.models import Registration, Training, TrainingBody, TrainingBudget, TrainingSession  # noqa: F401
from portal.workqueue.models import WorkClaim  # noqa: F401
