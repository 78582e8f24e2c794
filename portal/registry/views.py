"""Registry pages: the list of collectivités, a collectivité's page, the headcount declaration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from portal.affiliation import services as affiliation
from portal.common import exports, page_cache
from portal.common.clock import paris_today
from portal.common.forms import options
from portal.common.i18n import gettext as _
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.registry import exports as registry_exports
from portal.registry import services
from portal.registry.forms import FilterForm, HeadcountForm
from portal.registry.kinds import label as kind_label
from portal.registry.models import Collectivite
from portal.registry.visibility import can_manage_visible_collectivite, get_visible_collectivite_or_404

bp = Blueprint("registry", __name__)
# The label of a kind of collectivité, on every page (``{{ body.kind | kind_label }}``).
bp.add_app_template_filter(kind_label, "kind_label")


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _filters_from_request() -> tuple[FilterForm, services.ListFilters]:
    """The list's filters from the query string: the page and its exports read them the same way."""
    form = FilterForm(request.args)
    form.epci.choices = options([("", _("Tous les EPCI"))] + services.epci_choices())
    form.validate()
    sort = request.args.get("tri", "nom")
    filters = services.ListFilters(
        q=form.q.data or "",
        kind=form.kind.data or "",
        epci_id=form.epci.data if not form.epci.errors else None,
        status=form.status.data or "",
        sort=sort if sort in services.SORTS else "nom",
        descending=request.args.get("ordre") == "desc",
        page=_int_arg("page", 1),
    )
    return form, filters


@bp.route("/collectivites")
@login_required
def index():
    per_page = current_app.config["PORTAL_PAGE_SIZE"]
    if current_user.is_staff:  # staff read the same list: kept under the registry's version (page_cache)
        content = page_cache.cached("registry.index", "staff", lambda: _list_content(per_page), extra=(per_page,))
    else:
        content = _list_content(per_page)
    return render_template("registry/index.html", content=Markup(content))  # noqa: S704 - rendered by Jinja


def _list_content(per_page: int) -> str:
    """The list under the page's title: filters, counts, rows and pagination (the same for every agent)."""
    form, filters = _filters_from_request()
    page = services.list_collectivites(current_user, filters, per_page)
    return render_template("registry/_list.html", form=form, page=page, filters=filters)


@bp.route("/collectivites/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The filtered list, every page, streamed as CSV or XLSX."""
    _form, filters = _filters_from_request()
    return exports.response(
        fmt, "collectivites", translated(registry_exports.HEADER), registry_exports.rows(current_user, filters)
    )


def _visible_body_or_404(collectivite_id: int):
    """The collectivité of the page, its EPCI and commune of attachment loaded with it."""
    return get_visible_collectivite_or_404(
        current_user, collectivite_id, joinedload(Collectivite.epci), joinedload(Collectivite.parent)
    )


@bp.route("/collectivites/<int:collectivite_id>")
@login_required
def show(collectivite_id: int):
    body = services.body_sheet(current_user, collectivite_id)  # read only: plain values, not ORM objects
    if body is None:
        abort(404)  # never 403: the page does not reveal that it exists
    form = HeadcountForm(year=paris_today().year) if can_manage_visible_collectivite(current_user) else None
    return _render_show(body, form)


def _render_show(body, form, status: int = 200):
    year = paris_today().year
    facts = affiliation.body_facts(body, year)
    context = {
        "body": body,
        "form": form,
        "year": year,
        "evaluation": facts.evaluation,
        "declarations": facts.declarations,
        "history": facts.history,
        # A commune's members are its attached bodies, already read; an EPCI's are its communes.
        "members": facts.attached if body.is_commune else services.members(body) if body.is_epci else [],
        "decisions": affiliation.decisions_for(body.id),
        "users": services.attached_users(body.id) if current_user.is_staff else [],
        "synthetic": any(d.is_synthetic for d in facts.declarations),
    }
    return render_template("registry/show.html", **context), status


@bp.route("/collectivites/<int:collectivite_id>/effectifs", methods=["POST"])
@login_required
def declare(collectivite_id: int):
    body = _visible_body_or_404(collectivite_id)
    if not can_manage_visible_collectivite(current_user):
        abort(403)
    form = HeadcountForm()
    if form.validate_on_submit():
        counts = {
            name: getattr(form, name).data
            for name in ("titulaires_temps_complet", "titulaires_temps_non_complet", "contractuels")
        }
        if attempt(
            lambda: affiliation.record_declaration(
                body, form.year.data, counts, current_user, comment=form.comment.data or None
            ),
            form,
        ):
            flash(
                _(
                    "La déclaration d'effectifs %(year)s de %(name)s est enregistrée.",
                    year=form.year.data,
                    name=body.name,
                ),
                "success",
            )
            return redirect(url_for("registry.show", collectivite_id=body.id) + "#effectifs")
    return _render_show(body, form, 422)
