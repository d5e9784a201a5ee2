"""Where things land in the real outputs: image sizes and positions, table column widths, read from
the PDF's content streams (pikepdf) and words (poppler's pdftotext -bbox), the DOCX's XML and the
HTML's attributes. Used by the conformance suite's `image_widths`, `image_align` and `column_widths`."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pikepdf
from lxml import etree

EMU_PER_PT = 12700
TWIPS_PER_PT = 20
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
POINTS = {"px": 0.75, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pt": 1.0}


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def pdf_image_boxes(path: Path) -> list[tuple[float, float]]:
    """(x, width) in pt of every image the PDF draws, in drawing order."""
    boxes: list[tuple[float, float]] = []

    def run(stream, resources, matrix: list[float]) -> None:
        stack = []
        for operands, operator in pikepdf.parse_content_stream(stream):
            op = str(operator)
            if op == "q":
                stack.append(matrix)
            elif op == "Q":
                matrix = stack.pop()
            elif op == "cm":
                matrix = _multiply([float(v) for v in operands], matrix)
            elif op == "Do":
                xobject = resources.XObject[operands[0]]
                if xobject.Subtype == "/Image":
                    boxes.append((matrix[4], matrix[0]))
                else:
                    inner = [float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                    run(xobject, xobject.get("/Resources", resources), _multiply(inner, matrix))

    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            run(page, page.Resources, [1, 0, 0, 1, 0, 0])
    return boxes


def pdf_page_width(path: Path) -> float:
    with pikepdf.open(path) as pdf:
        box = [float(v) for v in pdf.pages[0].MediaBox]
    return box[2] - box[0]


def pdf_word_centres(path: Path, word: str) -> list[float]:
    """The horizontal middle (pt) of every occurrence of `word` in the PDF."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>' + re.escape(word) + "</word>"
    return [(float(m.group(1)) + float(m.group(2))) / 2 for m in re.finditer(pattern, xhtml)]


def docx_body(path: Path):
    return etree.fromstring(zipfile.ZipFile(path).read("word/document.xml")).find(f"{W}body")


def docx_text_width_pt(body) -> float:
    section = body.find(f"{W}sectPr")
    width = float(section.find(f"{W}pgSz").get(f"{W}w"))
    margins = section.find(f"{W}pgMar")
    return (width - float(margins.get(f"{W}left")) - float(margins.get(f"{W}right"))) / TWIPS_PER_PT


def docx_images(body) -> list[tuple[str, float, str | None]]:
    """(alt text, width in pt, paragraph alignment) of every image in the DOCX, in order."""
    found = []
    for paragraph in body.iter(f"{W}p"):
        for extent in paragraph.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}extent"):
            doc_pr = extent.getparent().find(
                "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")
            jc = paragraph.find(f"{W}pPr/{W}jc")
            found.append((doc_pr.get("descr"), int(extent.get("cx")) / EMU_PER_PT,
                          jc.get(f"{W}val") if jc is not None else None))
    return found


def docx_column_shares(body) -> list[list[float]]:
    """Each table's grid column widths as percentages of the table."""
    shares = []
    for table in body.iter(f"{W}tbl"):
        widths = [float(col.get(f"{W}w")) for col in table.iter(f"{W}gridCol")]
        shares.append([100 * w / sum(widths) for w in widths])
    return shares


def html_length(img) -> str:
    """The width an <img> asks for, as written: '50%', '3in', or pixels as '100px'."""
    style = re.search(r"width:\s*([\d.]+\s*(%|px|in|cm|mm|pt))", img.get("style", ""))
    if style:
        return style.group(1).replace(" ", "")
    return f"{img.get('width')}px" if img.get("width") else ""


def points(length: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(%|px|in|cm|mm|pt)", length).groups()
    return float(number) * POINTS[unit]
