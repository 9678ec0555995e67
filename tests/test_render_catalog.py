"""`errors` without colour is laid out by hand (for start-up speed): it must print exactly the table Rich prints."""

from __future__ import annotations

import dataclasses

import pytest

from gemini_doctor.explain import catalog_document
from gemini_doctor.report import render
from gemini_doctor.report.document import Report
from gemini_doctor.report.render_catalog import plain_catalog
from gemini_doctor.report.render_rich import render_rich

WIDTHS = [None, 20, 40, 60, *range(74, 86), 100, 133, 200]  # every width where the title column starts to wrap
TRICKY_TITLES = (
    "[bold]not markup[/] a  b   c",  # brackets Rich would read as markup; runs of spaces
    "画像が生成されない 429 エラー",  # characters two cells wide
    "  leading spaces and trailing  ",
    "x",
    "",
    r"back\slash [x] end – dash",
)


def _report(titles: tuple[str, ...] = ()) -> Report:
    report = Report.from_document(catalog_document())
    changed = tuple(dataclasses.replace(e, title=t) for e, t in zip(report.catalog, titles, strict=False))
    return dataclasses.replace(report, catalog=changed + report.catalog[len(changed) :])


@pytest.mark.parametrize("titles", [(), TRICKY_TITLES], ids=["catalog", "tricky-titles"])
def test_the_hand_laid_table_is_richs_table_at_every_width(titles):
    report = _report(titles)
    laid_out = 0
    for width in WIDTHS:
        plain = plain_catalog(report.catalog, width)
        if plain is not None:
            laid_out += 1
            assert plain == render_rich(report, width=width), width
    assert plain_catalog(report.catalog, None) is not None and plain_catalog(report.catalog, 80) is not None
    assert laid_out >= 10


def test_where_words_would_be_folded_or_an_emoji_code_shown_rich_lays_it_out():
    report = _report()
    assert plain_catalog(report.catalog, 40) is None  # the title column would be narrower than its longest word
    narrow = render(catalog_document(), "rich", width=40)
    assert narrow == render_rich(report, width=40) and max(map(len, narrow.splitlines())) <= 40
    emoji = _report(("ratio 16:9 :smile: ok",))
    assert plain_catalog(emoji.catalog, None) is None
    assert "😄" in render_rich(emoji)


def test_piped_errors_is_the_hand_laid_table_and_colour_is_richs():
    document = catalog_document()
    assert render(document, "rich") == plain_catalog(_report().catalog, None)
    coloured = render(document, "rich", color=True, width=100)
    assert "\x1b[1m" in coloured and coloured != render(document, "rich", width=100)
