"""Names of uploaded files and the Content-Disposition header of downloads (RFC 6266, RFC 5987)."""

from __future__ import annotations

import re

import pytest
from werkzeug.http import parse_options_header

from portal.common.files import clean_upload_name, content_disposition

# RFC 9110 field-value: visible characters, space and tab; no other control character.
HEADER_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def test_control_characters_are_removed_and_whitespace_ones_become_spaces():
    assert clean_upload_name("x.html\x00.pdf") == "x.html.pdf"
    assert clean_upload_name("rapport\x01\x1b\x7f\x85 final.pdf") == "rapport final.pdf"
    assert clean_upload_name("rapport\r\nfinal\tv2.pdf") == "rapport final v2.pdf"
    assert clean_upload_name("facture\u202efdp.exe") == "facturefdp.exe"  # a right-to-left override hides the type


def test_path_separators_leave_only_the_last_component():
    assert clean_upload_name("C:\\Users\\agent\\Documents\\convention.pdf") == "convention.pdf"
    assert clean_upload_name("../../etc/passwd") == "passwd"
    assert clean_upload_name("..") == "" and clean_upload_name(None) == "" and clean_upload_name(" \x00 ") == ""


def test_unicode_is_normalised_to_nfc():
    decomposed = "De\u0301libe\u0301ration e\u0301te\u0301.pdf"
    assert clean_upload_name(decomposed) == "Délibération été.pdf"
    assert len(clean_upload_name(decomposed)) == len("Délibération été.pdf")


def test_long_names_are_shortened_keeping_the_extension():
    name = "a" * 296 + ".pdf"
    assert len(name) == 300
    cleaned = clean_upload_name(name, 255)
    assert len(cleaned) == 255 and cleaned.endswith(".pdf") and cleaned.startswith("aaa")
    assert clean_upload_name("é" * 300 + ".docx", 100) == "é" * 95 + ".docx"
    assert clean_upload_name("b" * 300, 255) == "b" * 255  # no extension: simply cut
    long_suffix = "c" * 250 + "." + "d" * 50  # not an extension: cut like any name
    assert clean_upload_name(long_suffix, 255) == long_suffix[:255]
    assert clean_upload_name("convention.pdf", 255) == "convention.pdf"


def test_a_cut_never_leaves_a_trailing_space_or_dot_before_the_extension():
    assert clean_upload_name("a" * 9 + " " + "b" * 300 + ".pdf", 14) == "a" * 9 + ".pdf"


def test_the_maximum_length_must_leave_room_for_an_extension():
    with pytest.raises(ValueError):
        clean_upload_name("x.pdf", 5)


TRICKY_NAMES = [
    ("x.html\x00.pdf", "x.html.pdf"),
    ("a" * 296 + ".pdf", "a" * 251 + ".pdf"),
    ("De\u0301libe\u0301ration n°12 – été.pdf", "Délibération n°12 – été.pdf"),
    ('rapport "final"; v2\r\nbis.pdf', 'rapport "final"; v2 bis.pdf'),
    ("back\\slash 100%.odt", "slash 100%.odt"),
    ("会議録.pdf", "会議録.pdf"),
]


@pytest.mark.parametrize(("raw", "expected"), TRICKY_NAMES)
def test_content_disposition_carries_any_name(raw, expected):
    header = content_disposition(raw)
    assert not HEADER_CONTROLS.search(header)
    header.encode("ascii")  # the exact name travels percent-encoded (RFC 5987), the fallback is ASCII
    disposition, params = parse_options_header(header)
    assert disposition == "attachment" and params["filename"] == expected


def test_content_disposition_has_a_quoted_ascii_fallback_and_the_exact_name_in_utf8():
    assert content_disposition("releves-2027.csv") == 'attachment; filename="releves-2027.csv"'
    assert content_disposition("emargement.pdf", inline=True) == 'inline; filename="emargement.pdf"'
    assert content_disposition("Délibération été.pdf") == (
        "attachment; filename=\"Deliberation ete.pdf\"; filename*=UTF-8''D%C3%A9lib%C3%A9ration%20%C3%A9t%C3%A9.pdf"
    )
    quoted = content_disposition('rapport "final"; v2.pdf')
    assert quoted.startswith('attachment; filename="rapport _final_; v2.pdf"; filename*=UTF-8')
    assert content_disposition("会議録.pdf").startswith('attachment; filename="document.pdf"; filename*=UTF-8')
    assert content_disposition("\x00\x01") == 'attachment; filename="document"'
