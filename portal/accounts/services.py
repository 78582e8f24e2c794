"""Account use cases: create and invite users, log in with throttling, end sessions, reset passwords.

Services only ``flush()``; the caller (a view, a command, a task) commits once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from blinker import Namespace
from flask import current_app
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from portal.accounts import counters, links, rules
from portal.accounts.models import (
    MUNICIPAL_FUNCTIONS,
    AccountStatus,
    LinkPurpose,
    Mandate,
    MandateFunction,
    Person,
    Role,
    Sex,
    User,
    new_session_token,
)
from portal.accounts.rules import CounterLimit, password_problems
from portal.audit import services as audit
from portal.common import cdg
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.text import split_full_name
from portal.common.urls import external_url
from portal.extensions import db
from portal.registry.models import Collectivite

_hasher = PasswordHasher()
# Verified when the account does not exist, so that timing does not reveal which emails are known.
_DUMMY_HASH = _hasher.hash("portail-cdg-dummy-password")


class LoginThrottled(DomainError):
    def __init__(self, until: datetime):
        super().__init__(
            _(
                "Trop de tentatives de connexion échouées. Pour votre sécurité, la connexion est suspendue "
                "quelques minutes ; réessayez plus tard ou réinitialisez votre mot de passe."
            )
        )
        self.until = until


class InvalidCredentials(DomainError):
    def __init__(self):
        super().__init__(_("Adresse électronique ou mot de passe incorrect."))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    # An unknown account, or an invited one (no password yet), costs the same time as a wrong password.
    known_hash = user.password_hash if user is not None else None
    try:
        return _hasher.verify(known_hash or _DUMMY_HASH, password) and known_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def find_collectivite_by_code(code: str) -> Collectivite | None:
    """An INSEE code (5 characters) or a SIREN (9 digits)."""
    code = code.strip().replace(" ", "")
    if len(code) == 9 and code.isdigit():
        return db.session.scalar(select(Collectivite).where(Collectivite.siren == code))
    return db.session.scalar(
        select(Collectivite).where(Collectivite.insee_code == code.upper()).order_by(Collectivite.kind != "commune")
    )


@dataclass
class MandateInput:
    function: str = MandateFunction.CONSEILLER
    has_delegation: bool = False
    delegation_subject: str | None = None
    start_date: date | None = None
    sex: str | None = None


def create_user(
    *,
    email: str,
    role: str,
    password: str | None = None,
    full_name: str | None = None,
    collectivites: list[Collectivite] | None = None,
    mandate: MandateInput | None = None,
    person: Person | None = None,
    actor: User | None = None,
) -> User:
    """Create an account. Secretaries need at least one collectivité, elected officials exactly one.

    Without ``password`` the account is *invited*: the invitation email is queued (outbox) and its holder chooses
    the password himself. With one (scripted set-ups, the demo) it is active at once. An élu's account is attached
    to ``person`` when given (a person of the register), else to a new person holding ``mandate``."""
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise DomainError(_("Rôle inconnu : %(role)r (valeurs possibles : staff, secretary, elu).", role=role), "role")
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise DomainError(_("Adresse électronique invalide."), "email")
    if find_user_by_email(email) is not None:
        raise DomainError(_("Un compte existe déjà pour %(email)s.", email=email), "email")
    if password is not None:
        problems = password_problems(password, email)
        if problems:
            raise DomainError(" ".join(problems), "password")
    if person is not None:
        if role != Role.ELU:
            raise DomainError(_("Seul un compte d'élu est rattaché à une personne du répertoire des élus."), "person")
        if person.user is not None:
            raise DomainError(
                _("%(full_name)s a déjà un compte (%(email)s).", full_name=person.full_name, email=person.user.email),
                "person",
            )
        current = [m for m in person.current_mandates if m.function in MUNICIPAL_FUNCTIONS]
        if not current:
            raise DomainError(
                _("%(full_name)s ne détient aucun mandat municipal en cours.", full_name=person.full_name), "person"
            )
        collectivites = [current[0].collectivite]
    collectivites = collectivites or []
    if role == Role.SECRETARY and not collectivites:
        raise DomainError(
            _("Une secrétaire de mairie doit être rattachée à au moins une collectivité."), "collectivite"
        )
    if role == Role.ELU and len(collectivites) != 1:
        raise DomainError(_("Un élu doit être rattaché à une et une seule collectivité."), "collectivite")
    if role == Role.STAFF and collectivites:
        raise DomainError(
            _("Un agent du CDG n'est rattaché à aucune collectivité : il les administre toutes."), "collectivite"
        )

    user = User(
        email=email,
        role=role,
        full_name=(full_name or (person.full_name if person else email.split("@")[0])).strip(),
        password_hash=hash_password(password) if password is not None else None,
        invited_at=utcnow() if password is None else None,
    )
    if role == Role.SECRETARY:
        user.collectivites = list(collectivites)
    db.session.add(user)
    if person is not None:
        user.person = person
    elif role == Role.ELU:
        mandate = mandate or MandateInput()
        if mandate.function not in MUNICIPAL_FUNCTIONS:
            raise DomainError(_("Fonction inconnue (maire, adjoint ou conseiller)."), "function")
        if mandate.sex is not None and mandate.sex not in {s.value for s in Sex}:
            raise DomainError(_("Sexe inconnu (F ou M)."), "sex")
        if mandate.function == MandateFunction.ADJOINT and not mandate.has_delegation:
            # An adjoint exercises by delegation of the maire (CGCT L2122-18); recorded as such.
            mandate.has_delegation = True
        given_name, family_name = split_full_name(user.full_name)
        user.person = Person(given_name=given_name, family_name=family_name, sex=mandate.sex)
        user.person.mandates.append(
            Mandate(
                collectivite=collectivites[0],
                function=mandate.function,
                has_delegation=mandate.has_delegation or mandate.function == MandateFunction.MAIRE,
                delegation_subject=mandate.delegation_subject,
                start_date=mandate.start_date or date(2026, 3, 22),
            )
        )
    db.session.flush()
    if role == Role.ELU:
        db.session.expire(user, ["mandate"])  # read-only relationship: load it from the rows just written
    audit.record(
        "user.create",
        f"Création du compte {email} ({user.role_label})",
        actor=actor,
        obj=user,
        details={"role": role, "collectivites": [c.code for c in collectivites], "invited": password is None},
    )
    if password is None:
        send_invitation(user, actor=actor)
    return user


def login_counters(email: str, ip_address: str) -> list[CounterLimit]:
    config = current_app.config
    return rules.login_counters(
        email,
        ip_address,
        per_account_and_address=config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"],
        per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    )


def authenticate(email: str, password: str, ip_address: str, now: datetime | None = None) -> User:
    """Check credentials, throttled per account and address, per account and per address; audit the attempt.

    The attempt is counted before the password is checked, by one guarded statement per counter
    (``counters.take``): of simultaneous attempts, no more than the limit reach the check. A successful login
    clears the failures of its account from its address and does not count toward the wider counters."""
    now = now or utcnow()
    email = normalise_email(email)
    window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    counted = login_counters(email, ip_address)
    until = counters.take(counted, now, window)
    if until is not None:
        audit.record(
            "login.throttled",
            f"Connexion refusée (trop de tentatives) pour {email}",
            ip=ip_address,
            details={"email": email, "until": until.isoformat()},
        )
        raise LoginThrottled(until)

    user = find_user_by_email(email)
    ok = verify_password(user, password) and user is not None and user.active
    if not ok:
        audit.record(
            "login.failure", f"Échec de connexion pour {email}", actor=user, ip=ip_address, details={"email": email}
        )
        raise InvalidCredentials()
    narrowest, *wider = counted
    counters.forget(narrowest)
    for counter in wider:
        counters.give_back(counter)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record(
        "login.success", f"Connexion de {email}", actor=user, obj=user, ip=ip_address, details={"method": "password"}
    )
    db.session.flush()
    return user


def login_with_proconnect(user: User, ip_address: str, *, sub: str, now: datetime | None = None) -> None:
    """Record a login through ProConnect (``proconnect_rules.outcome_for`` said LOG_IN): the same audit event as a
    password login, with its method and ProConnect's subject identifier."""
    user.last_login_at = now or utcnow()
    audit.record(
        "login.success",
        f"Connexion de {user.email} par ProConnect",
        actor=user,
        obj=user,
        ip=ip_address,
        details={"method": "proconnect", "sub": sub},
    )
    db.session.flush()


def record_proconnect_refusal(email: str, reason: str, ip_address: str, user: User | None = None) -> None:
    """Audit a ProConnect identity the portal did not let in (``reason``: a ``proconnect_rules.Outcome`` value)."""
    email = normalise_email(email)
    audit.record(
        "login.failure",
        f"Connexion par ProConnect refusée pour {email}",
        actor=user,
        ip=ip_address,
        details={"email": email, "method": "proconnect", "reason": reason},
    )
    db.session.flush()


def purge_throttle_counters(now: datetime | None = None) -> int:
    """Delete the throttle counters whose window is over (the longest window: they count nothing any more)."""
    config = current_app.config
    longest = max(config["LOGIN_THROTTLE_WINDOW_SECONDS"], config["PASSWORD_RESET_THROTTLE_WINDOW_SECONDS"])
    return counters.purge((now or utcnow()) - timedelta(seconds=longest))


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login loader: the session carries ``id:token``; a rotated token ends every copy of the session."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    from portal.notifications import services as notifications

    row = db.session.execute(_signed_in_user_statement(), {"user_id": int(user_id)}).first()
    if row is None:
        return None
    user, unread = row
    if not user.active or user.session_token != token:
        return None
    notifications.remember_unread_count(user.id, unread)
    return user


@functools.cache
def _signed_in_user_statement():
    """One statement per page: the user with his unread count (the header's), without the joins of his current
    mandate (read only by the pages of an élu, when they need it). Built once per process: building it costs more
    than running it."""
    from portal.notifications import services as notifications

    return (
        select(User, notifications.unread_count_column(User.id))
        .options(lazyload(User.mandate))
        .where(User.id == bindparam("user_id"))
    )


def end_all_sessions(user: User) -> None:
    """Rotate the session token: any copy of a session cookie stops working."""
    user.session_token = new_session_token()
    db.session.flush()


# Staff management of accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFilters:
    text: str = ""
    role: str = ""
    status: str = ""


def accounts_statement(filters: AccountFilters) -> Select:
    """The people's accounts (service accounts of integrations are managed with their tokens), filtered,
    by name then address."""
    statement = select(User).where(User.is_service_account.is_(False))
    text = filters.text.strip().lower()
    if text:
        # LIKE's wildcards typed by someone are searched as spaces would be: a search, not a pattern.
        cleaned = text.replace("\\", " ").replace("%", " ").replace("_", " ").strip()
        pattern = f"%{cleaned}%"
        statement = statement.where(or_(func.lower(User.full_name).like(pattern), func.lower(User.email).like(pattern)))
    if filters.role in {r.value for r in Role}:
        statement = statement.where(User.role == filters.role)
    if filters.status == AccountStatus.DEACTIVATED:
        statement = statement.where(User.active.is_(False))
    elif filters.status == AccountStatus.INVITED:
        statement = statement.where(User.active.is_(True), User.password_hash.is_(None))
    elif filters.status == AccountStatus.ACTIVE:
        statement = statement.where(User.active.is_(True), User.password_hash.is_not(None))
    return statement.options(selectinload(User.collectivites)).order_by(func.lower(User.full_name), User.id)


def collectivites_for_codes(text: str) -> list[Collectivite]:
    """The collectivités named by the codes of ``text`` (INSEE codes or SIREN), in the CDG's départements.

    Every code that names nothing, or a body outside the CDG's départements, is refused at once, all of them in
    one message."""
    found, unknown, outside = [], [], []
    departements = set(cdg.departements())
    for code in rules.split_codes(text):
        body = find_collectivite_by_code(code)
        if body is None:
            unknown.append(code)
        elif body.departement_code not in departements:
            outside.append(f"{body.name} ({code})")
        elif body not in found:
            found.append(body)
    problems = []
    if unknown:
        problems.append(_("Aucune collectivité ne porte ce code : %(unknown)s.", unknown=", ".join(unknown)))
    if outside:
        problems.append(_("Hors des départements du CDG : %(outside)s.", outside=", ".join(outside)))
    if problems:
        raise DomainError(" ".join(problems), "collectivites")
    return found


def set_collectivites(
    user: User, collectivites: list[Collectivite], actor: User | None = None, *, context: dict | None = None
) -> tuple[list, list]:
    """Attach a secretary to exactly ``collectivites``; returns the bodies added and removed (audited, with
    ``context`` in the event's details: the import that made the change, for instance)."""
    if user.role != Role.SECRETARY:
        raise DomainError(
            _("Seul le compte d'une secrétaire de mairie est rattaché à des collectivités."), "collectivites"
        )
    before = list(user.collectivites)
    added = [c for c in collectivites if c not in before]
    removed = [c for c in before if c not in collectivites]
    if not added and not removed:
        return [], []
    user.collectivites = list(collectivites)
    db.session.flush()
    parts = []
    if added:
        parts.append("ajout de " + ", ".join(c.name for c in added))
    if removed:
        parts.append("retrait de " + ", ".join(c.name for c in removed))
    audit.record(
        "user.collectivites",
        f"Collectivités du compte {user.email} : {' ; '.join(parts)}",
        actor=actor,
        obj=user,
        details={"added": [c.code for c in added], "removed": [c.code for c in removed], **(context or {})},
    )
    return added, removed


# Sent inside the transaction that switches an account off or on again, so that the areas holding its other
# credentials (the API's tokens, above this area) revoke them in the same unit of work. Receivers return the
# number of credentials they revoked.
account_switched = Namespace().signal("account-switched")


def _revoke_other_credentials(user: User, actor: User | None) -> int:
    return sum(revoked or 0 for _receiver, revoked in account_switched.send(user, actor=actor))


def deactivation_refusal(user: User, actor: User | None) -> str | None:
    """Why ``actor`` may not switch ``user`` off, or None."""
    if actor is None or user.role != Role.STAFF or not user.active:
        return None
    other_active_staff = db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.STAFF, User.active.is_(True), User.is_service_account.is_(False), User.id != user.id
        )
    )
    return rules.staff_deactivation_refusal(is_self=actor.id == user.id, other_active_staff=other_active_staff or 0)


def deactivate_user(user: User, actor: User | None = None, reason: str | None = None) -> int:
    """Switch an account off: every web session of it ends and its other credentials (API tokens) are revoked
    at once. ``reason`` is kept in the audit log (the account's page shows it). Returns the number of credentials
    revoked."""
    if not user.active:
        raise DomainError(_("Le compte %(email)s est déjà désactivé.", email=user.email))
    refusal = deactivation_refusal(user, actor)
    if refusal:
        raise DomainError(refusal)
    user.active = False
    reason = (reason or "").strip() or None
    end_all_sessions(user)
    audit.record(
        "user.deactivate",
        f"Désactivation du compte {user.email}" + (f" : {reason}" if reason else ""),
        actor=actor,
        obj=user,
        details={"reason": reason},
    )
    return _revoke_other_credentials(user, actor)


def reactivate_user(user: User, actor: User | None = None) -> int:
    """Switch an account on again, with none of the sessions nor tokens that existed before: the session token
    is rotated once more and tokens still in force (an account switched off outside the portal) are revoked."""
    if user.active:
        raise DomainError(_("Le compte %(email)s est déjà actif.", email=user.email))
    user.active = True
    end_all_sessions(user)
    audit.record("user.reactivate", f"Réactivation du compte {user.email}", actor=actor, obj=user)
    return _revoke_other_credentials(user, actor)


# Invitations and password reset: single-use links (``links``) ---------------------------------------------


def invitation_lifetime() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"])


def send_invitation(user: User, actor: User | None = None) -> None:
    """Queue the invitation email of an invited account, with a new link (the previous one stops working)."""
    if user.status != AccountStatus.INVITED:
        raise DomainError(
            _(
                "Le compte %(email)s n'est pas en attente d'invitation (%(status_label)s) : rien à envoyer.",
                email=user.email,
                status_label=user.status_label.lower(),
            )
        )
    from portal.notifications.services import queue_email

    secret = links.issue(user, LinkPurpose.INVITATION, invitation_lifetime(), actor=actor)
    first = not _has_earlier_invitation(user)
    user.invited_at = user.invited_at or utcnow()
    queue_email(
        template="invitation",
        category="account",
        to_user=user,
        context={
            "full_name": user.full_name,
            "role_label": user.role_label,
            "collectivites": [c.name for c in user.collectivites]
            or ([user.mandate.collectivite.name] if user.mandate else []),
            "invited_by": actor.full_name if actor is not None and actor.id != user.id else None,
            "invitation_url": external_url("accounts.accept_invitation", secret=secret),
            "days": current_app.config["INVITATION_MAX_AGE_DAYS"],
        },
        mandatory=True,
    )
    audit.record(
        "user.invite" if first else "user.invite_again",
        f"{'Invitation' if first else 'Nouvelle invitation'} envoyée à {user.email}",
        actor=actor,
        obj=user,
    )


def _has_earlier_invitation(user: User) -> bool:
    from portal.accounts.models import AccountLink

    return (
        db.session.scalar(
            select(db.func.count())
            .select_from(AccountLink)
            .where(AccountLink.user_id == user.id, AccountLink.purpose == LinkPurpose.INVITATION)
        )
        > 1
    )


def invitation_for(secret: str):
    """The live invitation link for ``secret`` (:class:`links.LinkRefused` otherwise)."""
    link = links.check(secret, LinkPurpose.INVITATION)
    if link.user.status != AccountStatus.INVITED:
        raise links.LinkRefused(_("Cette invitation a déjà été acceptée : connectez-vous avec votre mot de passe."))
    return link


def accept_invitation(secret: str, password: str, *, terms_accepted: bool) -> User:
    """The invited person chooses a password and accepts the terms: the account becomes active."""
    link = invitation_for(secret)
    user = link.user
    if not terms_accepted:
        raise DomainError(_("Acceptez les conditions d'utilisation pour activer votre compte."), "accept_terms")
    problems = password_problems(password, user.email)
    if problems:
        raise DomainError(" ".join(problems), "password")
    links.use(link)
    user.password_hash = hash_password(password)
    user.password_changed_at = user.terms_accepted_at = utcnow()
    end_all_sessions(user)
    audit.record("user.invitation_accepted", f"Invitation acceptée par {user.email}", actor=user, obj=user)
    return user


def make_reset_token(user: User) -> str:
    """A new password-reset link secret for ``user`` (valid ``PASSWORD_RESET_MAX_AGE_SECONDS``)."""
    lifetime = timedelta(seconds=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"])
    return links.issue(user, LinkPurpose.PASSWORD_RESET, lifetime)


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to; :class:`links.LinkRefused` if forged, expired, used or replaced."""
    return links.check(token, LinkPurpose.PASSWORD_RESET).user


def reset_password(token: str, new_password: str) -> User:
    """Choose a new password through a reset link, which then stops working."""
    link = links.check(token, LinkPurpose.PASSWORD_RESET)
    problems = password_problems(new_password, link.user.email)
    if problems:
        raise DomainError(" ".join(problems), "password")
    links.use(link)
    change_password(link.user, new_password, via_reset=True)
    return link.user


class ResetThrottled(DomainError):
    def __init__(self, until: datetime):
        super().__init__(
            _(
                "Trop de demandes de réinitialisation en peu de temps. Si vous avez déjà demandé un lien, consultez "
                "votre messagerie (y compris les courriels indésirables) ; sinon, réessayez dans une heure."
            )
        )
        self.until = until


def take_request_quota(kind: str, email: str, ip_address: str, setting: str, now: datetime | None = None):
    """Count one request of ``kind`` from a public page against its limits per email address and per IP address
    (settings ``{setting}_MAX_PER_EMAIL``, ``_MAX_PER_ADDRESS`` and ``_THROTTLE_WINDOW_SECONDS``); None when it
    may proceed, else the moment the limit ends. Call it before the request writes anything."""
    config = current_app.config
    limits = rules.request_counters(
        kind,
        email,
        ip_address,
        per_email=config[f"{setting}_MAX_PER_EMAIL"],
        per_address=config[f"{setting}_MAX_PER_ADDRESS"],
    )
    return counters.take(limits, now or utcnow(), timedelta(seconds=config[f"{setting}_THROTTLE_WINDOW_SECONDS"]))


def request_password_reset(email: str, ip_address: str, now: datetime | None = None) -> None:
    """Queue the reset email if the account exists (a new invitation if it is still invited). The caller answers
    the same way either way.

    At most ``PASSWORD_RESET_MAX_PER_EMAIL`` requests per email address and ``PASSWORD_RESET_MAX_PER_ADDRESS``
    per IP address in the window (ResetThrottled beyond): counted whether the account exists or not, so that
    the limit tells nothing either. Call it before the request writes anything (``counters.take``)."""
    from portal.notifications.services import queue_email

    email = normalise_email(email)
    until = take_request_quota("reset", email, ip_address, "PASSWORD_RESET", now)
    if until is not None:
        audit.record(
            "password.reset_throttled",
            f"Demande de réinitialisation refusée (trop de demandes) pour {email}",
            ip=ip_address,
            details={"email": email, "until": until.isoformat()},
        )
        raise ResetThrottled(until)
    user = find_user_by_email(email)
    if user is None or not user.active:
        audit.record("password.reset_unknown", f"Demande de réinitialisation pour une adresse inconnue : {email}")
        return
    if user.status == AccountStatus.INVITED:
        # Its holder never chose a password: the invitation (password and terms of use) is what he needs.
        send_invitation(user)
        return
    token = make_reset_token(user)
    queue_email(
        template="password_reset",
        category="account",
        to_user=user,
        context={
            "full_name": user.full_name,
            "reset_url": external_url("accounts.reset_password", token=token),
            "minutes": current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60,
        },
        mandatory=True,
    )
    audit.record(
        "password.reset_requested", f"Demande de réinitialisation du mot de passe de {user.email}", actor=user, obj=user
    )


def change_password(user: User, new_password: str, *, via_reset: bool = False) -> None:
    problems = password_problems(new_password, user.email)
    if problems:
        raise DomainError(" ".join(problems), "password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    audit.record(
        "password.reset" if via_reset else "password.change",
        f"Mot de passe {'réinitialisé' if via_reset else 'modifié'} pour {user.email}",
        actor=user,
        obj=user,
    )
