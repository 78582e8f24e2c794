"""Staff pages of the catalogue: the services, a service's form and its yearly tariffs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalogue import services
from portal.catalogue.forms import ServiceForm, TariffForm
from portal.catalogue.models import Service
from portal.common.auth import staff_required
from portal.common.i18n import gettext as _
from portal.common.outcomes import attempt
from portal.extensions import db

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


@bp.route("/")
@staff_required
def index():
    all_services = db.session.scalars(
        select(Service).options(selectinload(Service.tariffs)).order_by(Service.position, Service.name)
    ).all()
    return render_template("catalogue/index.html", services=all_services)


def _data(form: ServiceForm) -> services.ServiceData:
    return services.ServiceData(
        code=form.code.data,
        name=form.name.data,
        description=form.description.data,
        group=form.group.data,
        eligibility=form.eligibility.data,
        tariff_model=form.tariff_model.data,
        requires_validation=form.requires_validation.data,
        notice_months=form.notice_months.data,
        request_fields=form.request_fields.data or [],
        active=form.active.data,
        position=form.position.data,
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@staff_required
def create():
    form = ServiceForm()
    if form.validate_on_submit():
        created = attempt(lambda: services.save_service(None, _data(form), current_user), form)
        if created:
            flash(_("Le service « %(name)s » est créé.", name=created.value.name), "success")
            return redirect(url_for("catalogue.edit", service_id=created.value.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("catalogue/edit.html", form=form, tariff_form=None, service=None), status


@bp.route("/<int:service_id>", methods=["GET", "POST"])
@staff_required
def edit(service_id: int):
    service = db.get_or_404(Service, service_id)
    form = ServiceForm(obj=service)
    tariff_form = TariffForm(prefix="tarif")
    if form.submit.data and form.validate_on_submit():
        if attempt(lambda: services.save_service(service, _data(form), current_user), form):
            flash(_("Le service est enregistré."), "success")
            return redirect(url_for("catalogue.edit", service_id=service.id))
    elif tariff_form.submit_tariff.data and tariff_form.validate_on_submit():
        saved = attempt(
            lambda: services.set_tariff(
                service,
                tariff_form.year.data,
                tariff_form.unit_amount.data,
                tariff_form.deliberation_ref.data,
                tariff_form.deliberation_date.data,
                current_user,
            ),
            tariff_form,
        )
        if saved:
            flash(_("Le tarif %(year)s est enregistré.", year=tariff_form.year.data), "success")
            return redirect(url_for("catalogue.edit", service_id=service.id) + "#tarifs")
    failed = form.errors or form.form_errors or tariff_form.errors or tariff_form.form_errors
    return render_template(
        "catalogue/edit.html", form=form, tariff_form=tariff_form, service=service
    ), 422 if failed else 200
