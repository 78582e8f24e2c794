"""Access requests: submitted by a person without an account, decided by staff (accept: she is invited with the
collectivités staff confirmed; refuse: she is told why). Services only ``flush()``; the caller commits.

The page that receives a request answers the same way whether the address has an account or not, and every
request is counted against a per-address and per-IP limit known or not: nothing tells which addresses exist.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.access import rules
from portal.access.models import AccessRequest, RequestState
from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.audit import services as audit
from portal.common import cdg
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.urls import external_url
from portal.extensions import db
from portal.registry.models import Collectivite


class AccessThrottled(DomainError):
    def __init__(self, until: datetime):
        super().__init__(
            _(
                "Trop de demandes d'accès en peu de temps depuis cette adresse. Votre demande précédente est bien "
                "enregistrée : le CDG vous répondra par courriel. Réessayez demain si besoin."
            )
        )
        self.until = until


def _departements() -> list[str]:
    return cdg.departements()


def resolve_collectivites(text: str) -> list[Collectivite]:
    """The CDG's collectivités named in ``text`` (codes or names), or a DomainError naming each one not found."""
    found: list[Collectivite] = []
    problems: list[str] = []
    departements = _departements()
    wanted = rules.split_wanted(text)
    if not wanted:
        raise DomainError(_("Indiquez au moins une collectivité, par son nom ou son code INSEE."), "collectivites")
    for item in wanted:
        if item.code is not None:
            body = accounts.find_collectivite_by_code(item.code)
            if body is None or body.departement_code not in departements:
                problems.append(
                    _("« %(typed)s » : aucune collectivité de ce code parmi celles du CDG.", typed=item.typed)
                )
                continue
            matches = [body]
        else:
            matches = db.session.scalars(
                select(Collectivite)
                .where(Collectivite.name_normalised == item.name, Collectivite.departement_code.in_(departements))
                .order_by(Collectivite.kind != "commune", Collectivite.name)
            ).all()
            communes = [m for m in matches if m.kind == "commune"]
            matches = communes or matches
            if not matches:
                problems.append(
                    _("« %(typed)s » : aucune collectivité de ce nom ; indiquez son code INSEE.", typed=item.typed)
                )
                continue
            if len(matches) > 1:
                codes = ", ".join(f"{m.name} ({m.code})" for m in matches)
                problems.append(
                    _(
                        "« %(typed)s » désigne plusieurs collectivités (%(codes)s) : indiquez le code.",
                        typed=item.typed,
                        codes=codes,
                    )
                )
                continue
        for body in matches:
            if body not in found:
                found.append(body)
    if problems:
        raise DomainError(" ".join(problems), "collectivites")
    return found


def collectivite_for_siret(siret: str | None) -> Collectivite | None:
    """The CDG's collectivité whose SIREN starts the SIRET announced by ProConnect (a hint to prefill, no more)."""
    digits = "".join(ch for ch in (siret or "") if ch.isdigit())
    if len(digits) != 14:
        return None
    body = db.session.scalar(select(Collectivite).where(Collectivite.siren == digits[:9]))
    return body if body is not None and body.departement_code in _departements() else None


def submit_request(
    *,
    full_name: str,
    email: str,
    job_title: str,
    collectivites_text: str,
    message: str | None,
    ip_address: str,
    siret_hint: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record a request (or update the pending one of the same address) and acknowledge it by email.

    An address that already has an account gets an email that says so (with the way to a new password)
    instead of a request: the person learns it, whoever typed her address on the page learns nothing."""
    from portal.notifications.services import queue_email

    email = accounts.normalise_email(email)
    collectivites = resolve_collectivites(collectivites_text)
    until = accounts.take_request_quota("access", email, ip_address, "ACCESS_REQUEST", now)
    if until is not None:
        audit.record(
            "access.throttled",
            f"Demande d'accès refusée (trop de demandes) pour {email}",
            ip=ip_address,
            details={"email": email},
        )
        raise AccessThrottled(until)

    if accounts.find_user_by_email(email) is not None:
        queue_email(
            template="access_existing_account",
            category="account",
            to_address=email,
            to_name=full_name,
            context={"full_name": full_name, "reset_url": external_url("accounts.forgot_password")},
            mandatory=True,
        )
        audit.record("access.existing_account", f"Demande d'accès pour une adresse qui a déjà un compte : {email}")
        return

    request = db.session.scalar(
        select(AccessRequest).where(AccessRequest.email == email, AccessRequest.state == RequestState.PENDING)
    )
    first = request is None
    if first:
        request = AccessRequest(email=email, state=RequestState.PENDING)
        db.session.add(request)
    request.full_name = full_name.strip()
    request.job_title = job_title.strip()
    request.collectivites_text = collectivites_text.strip()
    request.message = (message or "").strip() or None
    request.siret_hint = siret_hint or request.siret_hint
    request.collectivites = collectivites
    db.session.flush()
    audit.record(
        "access.request" if first else "access.request_updated",
        f"Demande d'accès de {request.full_name} ({email}) pour {', '.join(c.name for c in collectivites)}",
        obj=request,
        details={"collectivites": [c.code for c in collectivites]},
    )
    queue_email(
        template="access_received",
        category="account",
        to_address=email,
        to_name=request.full_name,
        context={"full_name": request.full_name, "collectivites": [c.name for c in collectivites]},
        mandatory=True,
    )


def pending_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AccessRequest).where(AccessRequest.state == RequestState.PENDING)
    )


def _pending(request: AccessRequest) -> None:
    if request.state != RequestState.PENDING:
        raise DomainError(
            _("Cette demande a déjà été traitée (%(state_label)s).", state_label=request.state_label.lower())
        )


def accept(request: AccessRequest, collectivites: list[Collectivite], actor: User) -> User:
    """Invite the person as a secretary of ``collectivites`` (what staff confirmed, not necessarily what she asked)."""
    _pending(request)
    user = accounts.create_user(
        email=request.email,
        role=Role.SECRETARY,
        full_name=request.full_name,
        collectivites=collectivites,
        actor=actor,
    )
    request.state = RequestState.ACCEPTED
    request.decided_at = utcnow()
    request.decided_by_id = actor.id
    request.user_id = user.id
    db.session.flush()
    audit.record(
        "access.accept",
        f"Demande d'accès de {request.email} acceptée : invitation pour {', '.join(c.name for c in collectivites)}",
        actor=actor,
        obj=request,
        details={"collectivites": [c.code for c in collectivites], "user_id": user.id},
    )
    return user


def refuse(request: AccessRequest, reason: str, actor: User) -> None:
    """Refuse with a reason the person reads in the email she receives."""
    from portal.notifications.services import queue_email

    _pending(request)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Indiquez le motif du refus : il est envoyé à la personne."), "reason")
    request.state = RequestState.REFUSED
    request.decided_at = utcnow()
    request.decided_by_id = actor.id
    request.refusal_reason = reason
    db.session.flush()
    queue_email(
        template="access_refused",
        category="account",
        to_address=request.email,
        to_name=request.full_name,
        context={"full_name": request.full_name, "reason": reason},
        mandatory=True,
    )
    audit.record("access.refuse", f"Demande d'accès de {request.email} refusée", actor=actor, obj=request)
