"""The agreement as PDF: the printable HTML laid out by WeasyPrint.

WeasyPrint is imported on first use: it is slow to import and only this format needs it. The
HTML is standalone (no external resources), so no URL is fetched while rendering; the output
carries no creation date and is the same bytes for the same HTML.
"""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    import weasyprint  # type: ignore[import-untyped]  # WeasyPrint ships no type information

    document = weasyprint.HTML(string=html, base_url=None)
    pdf: bytes = document.write_pdf()
    return pdf
