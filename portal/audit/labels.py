"""What each kind of audit event is called on the journal (the stored ``action`` is a stable key for programs)."""

from __future__ import annotations

from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels

ACTION_LABELS = Labels(
    {
        # Accounts and access
        "login.success": N_("Connexion"),
        "login.failure": N_("Connexion refusée"),
        "login.throttled": N_("Connexion bloquée (trop de tentatives)"),
        "password.change": N_("Changement de mot de passe"),
        "password.reset": N_("Mot de passe réinitialisé"),
        "password.reset_requested": N_("Demande de réinitialisation du mot de passe"),
        "password.reset_throttled": N_("Réinitialisation refusée (trop de demandes)"),
        "password.reset_unknown": N_("Réinitialisation demandée pour une adresse inconnue"),
        "user.create": N_("Création d'un compte"),
        "user.invite": N_("Invitation envoyée"),
        "user.invite_again": N_("Nouvelle invitation envoyée"),
        "user.invitation_accepted": N_("Invitation acceptée"),
        "user.collectivites": N_("Collectivités d'un compte modifiées"),
        "user.deactivate": N_("Compte désactivé"),
        "user.reactivate": N_("Compte réactivé"),
        "person.contact_email": N_("Adresse d'un élu modifiée"),
        "access.request": N_("Demande d'accès reçue"),
        "access.request_updated": N_("Demande d'accès complétée"),
        "access.existing_account": N_("Demande d'accès pour une adresse déjà inscrite"),
        "access.throttled": N_("Demande d'accès refusée (trop de demandes)"),
        "access.accept": N_("Demande d'accès acceptée"),
        "access.refuse": N_("Demande d'accès refusée"),
        "accounts.import_start": N_("Import de secrétaires lancé"),
        "accounts.import_done": N_("Import de secrétaires terminé"),
        "accounts.import_failed": N_("Import de secrétaires interrompu"),
        "elus.import": N_("Import du répertoire des élus"),
        "api_token.create": N_("Jeton d'API créé"),
        "api_token.revoke": N_("Jeton d'API révoqué"),
        # Collectivités and affiliation
        "headcount.declare": N_("Déclaration d'effectifs"),
        "affiliation.decide": N_("Décision d'affiliation"),
        "affiliation.opposition": N_("Opposition à une affiliation"),
        "payroll.set": N_("Masse salariale déclarée"),
        "rate.set": N_("Taux de cotisation voté"),
        # Catalogue and subscriptions
        "catalogue.create": N_("Service ajouté au catalogue"),
        "catalogue.update": N_("Service du catalogue modifié"),
        "catalogue.tariff": N_("Tarif voté"),
        "subscription.request": N_("Demande d'adhésion"),
        "subscription.request_end": N_("Demande de résiliation"),
        "subscription.validate": N_("Demande d'adhésion validée"),
        "subscription.refuse": N_("Demande d'adhésion refusée"),
        "subscription.ask_info": N_("Informations demandées"),
        "subscription.provide_info": N_("Demande complétée"),
        "subscription.activate": N_("Adhésion activée"),
        "subscription.suspend": N_("Adhésion suspendue"),
        "subscription.resume": N_("Adhésion reprise"),
        "subscription.end": N_("Adhésion résiliée"),
        "subscription.withdraw": N_("Demande retirée"),
        "subscription.documents_retry": N_("Documents d'adhésion relancés"),
        # Conventions
        "convention.create": N_("Convention créée"),
        "convention.update": N_("Convention modifiée"),
        "convention.terminate": N_("Convention dénoncée"),
        "convention.partner_create": N_("Partenaire ajouté"),
        "convention.parties_update": N_("Parties et signataires d'une convention modifiés"),
        "convention.axis_add": N_("Axe ajouté à une convention"),
        "convention.axis_update": N_("Axe d'une convention modifié"),
        "convention.axis_remove": N_("Axe d'une convention supprimé"),
        "convention.action_add": N_("Action ajoutée à une convention"),
        "convention.action_status": N_("Avancement d'une action"),
        "convention.meeting_add": N_("Réunion ajoutée"),
        "convention.document_add": N_("Document ajouté à une convention"),
        "convention.document_withdraw": N_("Document d'une convention retiré"),
        # Training
        "training.body_created": N_("Organisme de formation ajouté"),
        "training.body_updated": N_("Organisme de formation modifié"),
        "training.training_created": N_("Formation ajoutée"),
        "training.training_updated": N_("Formation modifiée"),
        "training.session_created": N_("Session créée"),
        "training.session_updated": N_("Session modifiée"),
        "training.session_cancelled": N_("Session annulée"),
        "training.registered": N_("Inscription à une formation"),
        "training.waiting_listed": N_("Inscription en liste d'attente"),
        "training.offer_accepted": N_("Place proposée acceptée"),
        "training.offer_expired": N_("Place proposée expirée"),
        "training.cancelled": N_("Inscription annulée"),
        "training.attendance": N_("Émargement"),
        "training.budget": N_("Budget de formation voté"),
        # Campaigns
        "campaign.open": N_("Campagne ouverte"),
        "campaign.answer": N_("Réponse à une campagne"),
        "campaign.close": N_("Campagne close"),
        "campaign.reopen": N_("Campagne rouverte"),
        # Mail
        "outbox.retry": N_("Courriel relancé"),
    }
)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or _("Autre événement")
