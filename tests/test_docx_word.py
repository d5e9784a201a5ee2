"""The DOCX a Word user can own: A4, table rows kept whole, columns that fit their content.
Read with python-docx, and as LibreOffice lays it out (its PDF, page by page)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from conftest import pdf_text

A4_CM = (21.0, 29.7)
# Tokens that must never be cut inside a table cell: dates, ids such as MS1 or R8, short words.
WHOLE_TOKEN = re.compile(r"^(\d{4}-\d\d-\d\d|[A-Z]{1,3}\d{1,2}|\w{2,4})$")


@pytest.fixture(scope="module")
def document(report):
    return docx.Document(str(report["docx"]))


@pytest.fixture(scope="module")
def libreoffice_pdf(report, tmp_path_factory) -> Path:
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (libreoffice-writer-nogui) is installed by the README's test command"
    folder = tmp_path_factory.mktemp("libreoffice")
    result = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                             str(report["docx"])], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return folder / "beslutsunderlag.pdf"


def test_every_section_is_a4_with_the_pdf_margins(document):
    for section in document.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == A4_CM
        assert round(section.left_margin.cm, 1) == round(section.right_margin.cm, 1) == 2.4


def test_libreoffice_opens_it_as_a4(libreoffice_pdf):
    box = PdfReader(libreoffice_pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_table_rows_never_split_and_headers_repeat(document):
    assert document.tables
    for table in document.tables:
        assert table._tbl.tblPr.find(qn("w:tblLayout")) is None  # autofit, not pandoc's fixed widths
        for index, row in enumerate(table.rows):
            properties = row._tr.trPr
            assert properties is not None and properties.find(qn("w:cantSplit")) is not None
            if index == 0:
                assert properties.find(qn("w:tblHeader")) is not None


def test_dates_ids_and_short_words_in_tables_are_not_cut(document, libreoffice_pdf):
    """Pandoc's fixed widths made LibreOffice print "N r", "M S1" and "2024-11-/28"."""
    tokens = {word for table in document.tables for row in table.rows for cell in row.cells
              for word in cell.text.split() if WHOLE_TOKEN.match(word)}
    assert {"Nr", "2024-11-28", "MS1"} <= tokens
    # the contents' dot leaders end in page numbers that run on into the next entry's number
    text = "\n".join(line for line in pdf_text(libreoffice_pdf).splitlines() if "....." not in line)
    cut = sorted(token for token in tokens for k in range(1, len(token))
                 if re.search(rf"(?<!\w){re.escape(token[:k])}\n{re.escape(token[k:])}(?!\w)", text))
    assert cut == []
