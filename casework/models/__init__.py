"""The casework kernel's models, one module per topic; imported here so Django and callers find them."""

from casework.calendar.models import (  # noqa: F401
    CalendarFeed,
)
from casework.models.access_log import (  # noqa: F401
    AccessLog,
)
from casework.models.api_tokens import (  # noqa: F401
    ApiScope,
    ApiToken,
)
from casework.models.approvals import (  # noqa: F401
    ApprovalKind,
    ApprovalRequest,
    ApprovalState,
)
from casework.models.cases import (  # noqa: F401
    BreakGlassAccess,
    Case,
    CaseDomain,
    CaseGroupObjectPermission,
    CaseLeadChange,
    CaseNumberSequence,
    CaseState,
    CaseSubject,
    CaseTeamMembership,
    CaseTransition,
    CaseUserObjectPermission,
    ConsultationCategory,
    IntakeRoute,
    WorkerHandover,
    WorkerHandoverItem,
)
from casework.models.disclosure_requests import (  # noqa: F401
    DisclosureRedaction,
    DisclosureRequest,
)
from casework.models.family import (  # noqa: F401
    Relative,
    SupportTie,
)
from casework.models.jobs import (  # noqa: F401
    ScheduledRun,
    WorkerHeartbeat,
)
from casework.models.migration import (  # noqa: F401
    MigrationRecord,
    MigrationRun,
    MigrationSource,
)
from casework.models.organizations import (  # noqa: F401
    Membership,
    MembershipEvent,
    MembershipGrant,
    Organization,
    membership_active_q,
)
from casework.models.person_matches import (  # noqa: F401
    PersonMatch,
    PersonMatchAgreement,
)
from casework.models.persons import (  # noqa: F401
    Household,
    HouseholdMember,
    Person,
)
from casework.models.records import (  # noqa: F401
    CONSENT_STATUS_LABELS,
    Assessment,
    Consent,
    ConsentPurpose,
    ContactRecord,
    PlanRole,
    SupportPlan,
    consent_form_path,
)
from casework.models.retention import (  # noqa: F401
    DisposalDecision,
    DisposalItem,
    DisposalTombstone,
    LegalHold,
    RetentionCandidate,
    RetentionRule,
    RetentionRun,
)
from casework.notifications.models import (  # noqa: F401
    DigestDelivery,
    DigestSubscription,
    Notification,
    NotificationKind,
)
