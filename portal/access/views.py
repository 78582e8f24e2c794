"""Access requests: the public request page (linked from the login page and from ProConnect's unknown-address
page) and the staff pages that decide them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select

from portal.access import services
from portal.access.forms import AcceptRequestForm, AccessRequestForm, RefuseRequestForm
from portal.access.models import STATE_LABELS, AccessRequest, RequestState
from portal.accounts import services as accounts
from portal.common.auth import staff_required
from portal.common.errors import DomainError
from portal.common.forms import show_domain_error
from portal.common.i18n import gettext as _
from portal.common.pagination import paginate
from portal.common.security import client_address
from portal.extensions import db

bp = Blueprint("access", __name__)

PER_PAGE = 50


def _prefilled_form() -> AccessRequestForm:
    """The form, prefilled from the query (ProConnect's unknown-address page sends what it knows)."""
    args = request.args
    name = " ".join(part for part in (args.get("prenom", ""), args.get("nom", "")) if part).strip()
    body = services.collectivite_for_siret(args.get("siret"))
    return AccessRequestForm(
        formdata=None,
        full_name=name[:200],
        email=args.get("email", "")[:254],
        collectivites=f"{body.name} ({body.code})" if body is not None else "",
    )


@bp.route("/demande-d-acces", methods=["GET", "POST"])
def request_access():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if request.method == "GET":
        return render_template("access/request.html", form=_prefilled_form())
    form = AccessRequestForm()
    status = 422
    if form.validate_on_submit():
        siret = request.args.get("siret")
        try:
            services.submit_request(
                full_name=form.full_name.data,
                email=form.email.data,
                job_title=form.job_title.data,
                collectivites_text=form.collectivites.data,
                message=form.message.data,
                ip_address=client_address(),
                siret_hint="".join(ch for ch in siret if ch.isdigit())[:14] if siret else None,
            )
        except services.AccessThrottled as exc:
            db.session.commit()  # keep the audit event
            form.form_errors.append(exc.message)
            status = 429
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            return redirect(url_for("access.request_sent"))
    return render_template("access/request.html", form=form), status


@bp.get("/demande-d-acces/envoyee")
def request_sent():
    return render_template("access/sent.html")


# Staff ------------------------------------------------------------------------------------------------------


def _access_request(request_id: int) -> AccessRequest:
    access_request = db.session.get(AccessRequest, request_id)
    if access_request is None:
        abort(404)
    return access_request


@bp.get("/demandes-d-acces/")
@staff_required
def index():
    state = request.args.get("etat", RequestState.PENDING)
    statement = select(AccessRequest)
    if state in {s.value for s in RequestState}:
        statement = statement.where(AccessRequest.state == state)
    # Oldest pending first: they have waited longest; decided ones most recent first.
    statement = statement.order_by(
        case((AccessRequest.state == RequestState.PENDING, 0), else_=1),
        case((AccessRequest.state == RequestState.PENDING, AccessRequest.created_at), else_=None),
        AccessRequest.decided_at.desc(),
        AccessRequest.id,
    )
    page_arg = request.args.get("page", "1")
    page = paginate(statement, int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1, PER_PAGE)
    return render_template("access/index.html", page=page, state=state, states=RequestState, state_labels=STATE_LABELS)


def _show(access_request: AccessRequest, accept_form=None, refuse_form=None, status: int = 200):
    accept_form = accept_form or AcceptRequestForm(
        formdata=None, collectivites=", ".join(c.code for c in access_request.collectivites)
    )
    return render_template(
        "access/show.html",
        access_request=access_request,
        accept_form=accept_form,
        refuse_form=refuse_form or RefuseRequestForm(formdata=None),
        existing_account=accounts.find_user_by_email(access_request.email),
        siret_body=services.collectivite_for_siret(access_request.siret_hint) if access_request.siret_hint else None,
        pending=access_request.state == RequestState.PENDING,
    ), status


@bp.get("/demandes-d-acces/<int:request_id>")
@staff_required
def show(request_id: int):
    return _show(_access_request(request_id))


def _decide(request_id: int, form, form_name: str, decide):
    """A decision of staff: the form validated, ``decide(request, form)`` applied (it returns the message to show)
    and committed; a request decided meanwhile (another agent, another tab) is said so on its page."""
    access_request = _access_request(request_id)
    if not form.validate_on_submit():
        return _show(access_request, status=422, **{form_name: form})
    try:
        message = decide(access_request, form)
    except DomainError as exc:
        db.session.rollback()
        if exc.field is None:
            flash(exc.message, "error")
            return redirect(url_for("access.show", request_id=access_request.id))
        show_domain_error(form, exc)
        return _show(access_request, status=422, **{form_name: form})
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("access.index"))


@bp.post("/demandes-d-acces/<int:request_id>/acceptation")
@staff_required
def accept(request_id: int):
    def decide(access_request, form) -> str:
        collectivites = accounts.collectivites_for_codes(form.collectivites.data)
        user = services.accept(access_request, collectivites, current_user)
        return _("Demande acceptée : invitation envoyée à %(email)s.", email=user.email)

    return _decide(request_id, AcceptRequestForm(), "accept_form", decide)


@bp.post("/demandes-d-acces/<int:request_id>/refus")
@staff_required
def refuse(request_id: int):
    def decide(access_request, form) -> str:
        services.refuse(access_request, form.reason.data, current_user)
        return _("Demande refusée : la personne en est informée par courriel (%(email)s).", email=access_request.email)

    return _decide(request_id, RefuseRequestForm(), "refuse_form", decide)
