"""Printable shelf/product labels: one SVG per SKU (python-barcode draws the bars) and a PDF sheet of labels
(reportlab draws the bars and text; Chinese names use reportlab's built-in STSong-Light CID font, no font file).

A label shows the product name, the variant, the price resolved for the chosen store and the primary barcode.
"""
import io
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Conflict, ValidationFailed
from yundian.core.money import Money

from .models import BarcodeKind, Sku

LABEL_WIDTH_MM = 60
LABEL_HEIGHT_MM = 40
MAX_LABELS = 1000

# python-barcode / reportlab symbology names, and how many digits each takes without its check digit
_SYMBOLOGY = {
    BarcodeKind.EAN13: ("ean13", "EAN13", 12),
    BarcodeKind.INTERNAL: ("ean13", "EAN13", 12),
    BarcodeKind.UPCA: ("upca", "UPCA", 11),
    BarcodeKind.EAN8: ("ean8", "EAN8", 7),
}


@dataclass(frozen=True)
class Label:
    name: str
    variant: str
    price: Money
    unit: str
    barcode: str
    kind: str


def label_for(sku: Sku, price: Money) -> Label:
    """The label content of a SKU (its primary barcode, else its first). 409 when the SKU has no barcode."""
    barcodes = sorted(sku.barcodes.all(), key=lambda b: (not b.is_primary, b.id))
    if not barcodes:
        raise Conflict(_("This SKU has no barcode to print."), code="sku_has_no_barcode", details={"sku": sku.code})
    variant = sku.name or " ".join(str(v) for v in sku.options.values())
    return Label(sku.product.name, variant, price, sku.get_unit_display(), barcodes[0].code, barcodes[0].kind)


def _price_text(label: Label) -> str:
    return f"{label.price.format()}/{label.unit}" if label.unit else label.price.format()


def label_svg(label: Label) -> str:
    """One label as a standalone SVG document, 60 x 40 mm (user units are millimetres)."""
    import barcode
    from barcode.writer import SVGWriter

    python_barcode_name, _rl, digits = _SYMBOLOGY[label.kind]
    symbol = barcode.get(python_barcode_name, label.barcode[:digits], writer=SVGWriter())
    buffer = io.BytesIO()
    symbol.write(buffer, options={"module_width": 0.33, "module_height": 11, "font_size": 8, "text_distance": 4,
                                  "quiet_zone": 2})
    bars = buffer.getvalue().decode("utf-8")
    bars = bars[bars.index("<svg"):]  # drop the XML prolog and doctype
    bars = re.sub(r"(\d+(?:\.\d+)?)mm", r"\1", bars)  # python-barcode sizes are mm: our user unit
    bars = re.sub(r"<svg [^>]*>", "", bars, count=1).replace("</svg>", "")
    bars = re.sub(r'<rect width="100%" height="100%"[^>]*/>', "", bars)
    bars = bars.replace("font-size:8pt", "font-size:2.8px")  # 8 pt is about 2.8 mm: keep it in user units
    bar_width = float(re.search(r'width="([\d.]+)mm"', buffer.getvalue().decode("utf-8")).group(1))
    left = max((LABEL_WIDTH_MM - bar_width) / 2, 0)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{LABEL_WIDTH_MM}mm" '
        f'height="{LABEL_HEIGHT_MM}mm" viewBox="0 0 {LABEL_WIDTH_MM} {LABEL_HEIGHT_MM}">'
        '<rect width="100%" height="100%" fill="white"/>'
        f'<text x="3" y="6" font-size="4" font-family="sans-serif">{escape(label.name[:28])}</text>'
        f'<text x="3" y="10.5" font-size="3" font-family="sans-serif" fill="#444">{escape(label.variant[:36])}</text>'
        f'<text x="{LABEL_WIDTH_MM - 3}" y="16" font-size="5" font-weight="bold" text-anchor="end" '
        f'font-family="sans-serif">{escape(_price_text(label))}</text>'
        f'<g transform="translate({left:.2f} 19)">{bars}</g>'
        "</svg>"
    )


def labels_pdf(labels: list[Label], *, copies: int = 1) -> bytes:
    """A PDF with one 60 x 40 mm page per label (label printers), `copies` of each."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode import createBarcodeDrawing
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if not labels:
        raise ValidationFailed(_("Choose at least one SKU."), code="no_labels")
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= 100:
        raise ValidationFailed(_("Print 1 to 100 copies."), code="invalid_copies", details={"field": "copies"})
    if len(labels) * copies > MAX_LABELS:
        raise ValidationFailed(_("At most 1000 labels at once."), code="too_many_labels")
    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    buffer = io.BytesIO()
    width, height = LABEL_WIDTH_MM * mm, LABEL_HEIGHT_MM * mm
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1)
    pdf.setTitle("Yundian labels")
    for label in labels:
        _name, reportlab_name, digits = _SYMBOLOGY[label.kind]
        drawing = createBarcodeDrawing(reportlab_name, value=label.barcode[:digits], barHeight=11 * mm,
                                       humanReadable=True, fontSize=7)
        for _copy in range(copies):
            pdf.setFont(font, 10)
            pdf.drawString(3 * mm, height - 6 * mm, label.name[:24])
            pdf.setFont(font, 8)
            pdf.drawString(3 * mm, height - 10.5 * mm, label.variant[:32])
            pdf.setFont("Helvetica-Bold", 12)
            pdf.drawRightString(width - 3 * mm, height - 15.5 * mm, _price_text(label))
            renderPDF.draw(drawing, pdf, (width - drawing.width) / 2, 2 * mm)
            pdf.showPage()
    pdf.save()
    return buffer.getvalue()
