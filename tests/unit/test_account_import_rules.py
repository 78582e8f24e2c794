"""The pure rules of the bulk import of secretaries: reading CSV and XLSX as people write them, checking lines,
and deciding what each line does."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from portal.accounts import import_rules as rules
from portal.accounts.import_rules import (
    AccountRef,
    CollectiviteRef,
    ImportFileError,
    ImportLine,
    LineError,
    Outcome,
    decide,
)

MB = 1024 * 1024
SAMPLE = "Adresse électronique;Nom et prénom;Codes INSEE\r\nsec@agme.fr;Claire Dubois;47002, 47003\r\n"


def read(data: bytes | str, **kwargs) -> rules.Table:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return rules.read_table(data, max_bytes=kwargs.get("max_bytes", MB))


def lines(data: bytes | str):
    return rules.parse_lines(read(data))


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Columns -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["Adresse électronique", "Nom", "Codes INSEE"],
        ["COURRIEL", "Nom et prénom", "Collectivités"],
        ["E-mail", "nom prenom", "SIREN"],
        ["adresse e-mail ", "Nom complet", "Codes INSEE / SIREN"],
        ["Mail", "Prénom", "Nom", "Code INSEE"],
        ["\ufeffEmail", "NOM ET PRÉNOM", "Communes", ""],
    ],
)
def test_columns_are_found_by_the_names_people_give_them(header):
    columns = rules.map_columns(header)
    assert {"email", "codes"} <= set(columns)
    assert "full_name" in columns or "family_name" in columns


def test_missing_unknown_and_repeated_columns_are_refused_with_the_expected_columns():
    with pytest.raises(ImportFileError) as missing:
        rules.map_columns(["Courriel", "Nom"])
    assert "Colonnes absentes : les codes des collectivités." in str(missing.value)
    assert "Colonnes attendues : « Adresse électronique »" in str(missing.value)
    with pytest.raises(ImportFileError, match="Colonnes inconnues : « Téléphone », « Commune 2 »"):
        rules.map_columns(["Courriel", "Nom", "Codes INSEE", "Téléphone", "Commune 2"])
    with pytest.raises(ImportFileError, match="Colonnes en double : « E-mail »"):
        rules.map_columns(["Courriel", "Nom", "Codes INSEE", "E-mail"])
    with pytest.raises(ImportFileError, match="Le nom est donné deux fois"):
        rules.map_columns(["Courriel", "Nom", "Nom et prénom", "Codes INSEE"])


# Reading -----------------------------------------------------------------------------------------------------------


def test_utf8_with_bom_semicolons():
    table = read(SAMPLE.encode("utf-8-sig"))
    assert table.kind == "csv" and table.header[0] == "Adresse électronique"
    assert table.rows == [(2, ["sec@agme.fr", "Claire Dubois", "47002, 47003"])]


def test_windows_1252_as_excel_writes_it():
    data = "Adresse électronique;Nom;Codes INSEE\r\nsec@agme.fr;Hélène Lefèvre;47002\r\n".encode("cp1252")
    [line] = lines(data)
    assert line == ImportLine(2, "sec@agme.fr", "Hélène Lefèvre", ("47002",))


def test_commas_as_separator_with_quoted_code_lists():
    data = 'E-mail,Nom et prénom,Codes INSEE\n"sec@agme.fr","Dubois, Claire","47002, 47003"\n'
    assert rules.choose_delimiter(data) == ","
    [line] = lines(data)
    assert line.full_name == "Dubois, Claire" and line.codes == ("47002", "47003")


def test_the_header_decides_the_separator_even_with_commas_in_the_cells():
    data = "Courriel;Nom;Collectivités\nsec@agme.fr;Dubois, Claire;47002, 47003, 47005\n"
    assert rules.choose_delimiter(data) == ";"


def test_empty_rows_are_skipped_and_line_numbers_are_those_of_the_file():
    data = 'Courriel;Nom;Codes\n\nsec@agme.fr;"Claire\nDubois";47002\n;;\nsec2@agme.fr;Paul;47003\n'
    table = read(data)
    assert [number for number, _ in table.rows] == [3, 6]


def test_xlsx_first_sheet_numbers_and_leading_zeros():
    data = xlsx(
        [
            [None, None, None],
            ["Adresse électronique", "Prénom", "Nom", "Codes INSEE"],
            ["sec@ain.fr", "Claire", "Dubois", 1001],  # 01001 typed as a number: Excel drops the 0
            ["sec@agme.fr", "Paul", "Martin", 47002.0],
            ["sec@corse.fr", "Ange", "Santoni", "2A004, 214700015"],
        ]
    )
    table = read(data)
    assert table.kind == "xlsx" and [n for n, _ in table.rows] == [3, 4, 5]
    parsed = rules.parse_lines(table)
    assert [p.codes for p in parsed] == [("01001",), ("47002",), ("2A004", "214700015")]
    assert parsed[0].full_name == "Claire Dubois"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Le fichier est vide."),
        (b"\xef\xbb\xbf\r\n  \r\n", "Le fichier est vide."),
        (b"%PDF-1.7 ...", "n'est ni un fichier CSV ni un classeur XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ancien format (.xls)"),
        (b"PK\x03\x04 not really a workbook", "n'est pas un classeur XLSX lisible"),
        (b"abc\x00def", "n'est ni un fichier CSV ni un classeur XLSX"),
    ],
)
def test_files_that_are_not_tables_are_refused_with_the_expected_columns(data, message):
    with pytest.raises(ImportFileError) as refused:
        read(data)
    assert message in str(refused.value) and "Colonnes attendues" in str(refused.value)


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(ImportFileError, match="dépasse la taille maximale de 1 Mo"):
        read(b"x" * (MB + 1), max_bytes=MB)


# Lines -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes", "bad"),
    [
        ("47002, 47003", ["47002", "47003"], []),
        ("47002;47003 / 47005", ["47002", "47003", "47005"], []),
        ("214 700 015", ["214700015"], []),
        ("47002 47003", ["47002", "47003"], []),
        ("47002, 47002", ["47002"], []),
        ("2a004", ["2A004"], []),
        ("1001", ["01001"], []),
        ("47002, Agen, 470", ["47002"], ["Agen", "470"]),
        ("  ", [], []),
    ],
)
def test_split_codes(text, codes, bad):
    assert rules.split_codes(text) == (codes, bad)


def test_line_errors_name_the_reason_in_french():
    data = (
        "Courriel;Nom;Codes INSEE\n"
        "pas-une-adresse;Claire Dubois;47002\n"
        ";Claire Dubois;47002\n"
        "ok@agme.fr;;47002\n"
        "ok2@agme.fr;Paul Martin;\n"
        "ok3@agme.fr;Paul Martin;Agen\n"
        "OK4@Agme.FR;  Paul   Martin ;47002\n"
    )
    parsed = lines(data)
    assert [p.reason if isinstance(p, LineError) else p for p in parsed] == [
        "Adresse électronique invalide : « pas-une-adresse ».",
        "Adresse électronique manquante.",
        "Nom manquant.",
        "Aucun code de collectivité (code INSEE ou SIREN).",
        "Code invalide : « Agen » (un code INSEE a 5 caractères, un SIREN 9 chiffres).",
        ImportLine(7, "ok4@agme.fr", "Paul Martin", ("47002",)),
    ]
    assert [p.line for p in parsed] == [2, 3, 4, 5, 6, 7]


def test_duplicates_in_the_file():
    data = (
        "Courriel;Nom;Codes INSEE\n"
        "a@agme.fr;Claire Dubois;47002\n"
        "b@agme.fr;Paul Martin;47003\n"
        "A@agme.fr;Claire Dubois;47002\n"  # the same line again (the address in capitals)
        "b@agme.fr;Paul Martin;47005\n"  # the same address with other codes: which one is right?
    )
    parsed = lines(data)
    assert parsed[0] == ImportLine(2, "a@agme.fr", "Claire Dubois", ("47002",))
    assert parsed[2].reason == "Ligne en double : identique à la ligne 2."
    assert parsed[1].reason.startswith("Même adresse électronique qu'à la ligne 5, avec un autre nom ou d'autres")
    assert parsed[3].reason.startswith("Même adresse électronique qu'à la ligne 3,")


# Decisions ---------------------------------------------------------------------------------------------------------

AGME = CollectiviteRef(1, "Agmé", "47002", "47")
AGNAC = CollectiviteRef(2, "Agnac", "47003", "47")
BORDEAUX = CollectiviteRef(3, "Bordeaux", "33063", "33")
FOUND = {"47002": AGME, "47003": AGNAC, "214700023": AGME, "33063": BORDEAUX}
LINE = ImportLine(2, "sec@agme.fr", "Claire Dubois", ("47002", "47003"))


def test_a_new_address_creates_an_account():
    decision = decide(LINE, FOUND, None, ["47"])
    assert decision.outcome == Outcome.CREATED and decision.added == (AGME, AGNAC)
    assert decision.detail == "Agmé (47002), Agnac (47003)"


def test_an_insee_code_and_the_siren_of_the_same_commune_count_once():
    decision = decide(ImportLine(2, "sec@agme.fr", "C", ("47002", "214700023")), FOUND, None, ["47"])
    assert decision.collectivites == (AGME,)


def test_an_existing_secretary_gains_the_collectivites_she_lacks_and_keeps_the_others():
    account = AccountRef(7, "secretary", True, frozenset({1, 99}))
    decision = decide(LINE, FOUND, account, ["47"])
    assert decision.outcome == Outcome.ADDED and decision.added == (AGNAC,) and decision.detail == "Agnac (47003)"
    complete = AccountRef(7, "secretary", True, frozenset({1, 2}))
    assert decide(LINE, FOUND, complete, ["47"]).outcome == Outcome.UNCHANGED


@pytest.mark.parametrize(
    ("line", "account", "reason"),
    [
        (ImportLine(2, "s@a.fr", "C", ("47002", "47999")), None, "Code inconnu : 47999"),
        (ImportLine(2, "s@a.fr", "C", ("47998", "47999")), None, "Codes inconnus : 47998, 47999"),
        (ImportLine(2, "s@a.fr", "C", ("33063",)), None, "Hors des départements du CDG (47) : Bordeaux (33063)."),
        (LINE, AccountRef(7, "staff", True), "Un compte d'agent du CDG existe déjà pour cette adresse."),
        (LINE, AccountRef(7, "elu", True), "Un compte d'élu existe déjà pour cette adresse."),
        (LINE, AccountRef(7, "secretary", False), "Le compte de cette adresse est désactivé"),
    ],
)
def test_errors(line, account, reason):
    decision = decide(line, FOUND, account, ["47"])
    assert decision.outcome == Outcome.ERROR and reason in decision.detail


def test_every_departement_when_the_cdg_has_none_configured():
    assert decide(ImportLine(2, "s@a.fr", "C", ("33063",)), FOUND, None, []).outcome == Outcome.CREATED
    assert decide(ImportLine(2, "s@a.fr", "C", ("33063",)), FOUND, None, ["047", "33"]).outcome == Outcome.CREATED


def test_a_line_error_stays_an_error():
    decision = decide(LineError(4, "Nom manquant.", "s@a.fr"), FOUND, None, ["47"])
    assert (decision.line, decision.outcome, decision.detail) == (4, Outcome.ERROR, "Nom manquant.")


def test_summary_and_digest():
    counts = rules.Counts.of(["created", "created", "added", "error"])
    assert rules.summary_text(counts) == "2 comptes créés, 1 compte complété, 0 inchangé, 1 ligne en erreur."
    assert rules.summary_text(counts, planned=True).startswith("2 comptes à créer, 1 compte à compléter")
    one = [decide(LINE, FOUND, None, ["47"])]
    other = [decide(LINE, FOUND, AccountRef(7, "secretary", True, frozenset({1})), ["47"])]
    assert rules.plan_digest(one) == rules.plan_digest(list(one)) != rules.plan_digest(other)


def test_summary_text_agrees_from_zero():
    counts = rules.Counts(created=0, added=1, unchanged=2, errors=0)
    assert rules.summary_text(counts) == "0 compte créé, 1 compte complété, 2 inchangés, 0 ligne en erreur."
    assert rules.summary_text(counts, planned=True) == (
        "0 compte à créer, 1 compte à compléter, 2 inchangés, 0 ligne en erreur."
    )


def test_progress_text_agrees_in_french():
    assert rules.progress_text(0, 16) == "0 ligne traitée sur 16."
    assert rules.progress_text(1, 1) == "1 ligne traitée sur 1."
    assert rules.progress_text(1200, 2000) == "1\u202f200 lignes traitées sur 2\u202f000."
