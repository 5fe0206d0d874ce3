"""A PDF shown inside the window (QtPdf), plus printing a PDF on an A4 printer."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget


class PdfPreview(QWidget):
    """Shows PDF bytes page after page, fitted to the width of the pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self._buffer: QBuffer | None = None
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.document)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.pdf = b""

    def set_accessible_name(self, name: str) -> None:
        """What a screen reader calls the preview; its description is the PDF's text."""
        self.setAccessibleName(name)
        self.view.setAccessibleName(name)

    def text(self) -> str:
        """The words of every page, for a screen reader (the picture alone says nothing)."""
        pages = range(self.document.pageCount())
        return "\n\n".join(self.document.getAllText(page).text() for page in pages)

    def set_pdf(self, data: bytes) -> None:
        """Show this PDF (empty bytes clear the preview)."""
        self.pdf = data
        self.document.close()
        self.view.setAccessibleDescription("")
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None
        if not data:
            return
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._buffer = buffer
        self.document.load(buffer)
        self.view.setAccessibleDescription(self.text())

    def page_count(self) -> int:
        return self.document.pageCount()


def a4_printer() -> QPrinter:
    """A printer set up for A4 portrait at full resolution."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    return printer


# Pages are rendered at no more than this resolution and sent in horizontal bands of at
# most BAND_BYTES each: a whole A4 page at 600 dpi is a 140 MB bitmap, a band a few MB, so
# a long case file prints in the same memory as a one-page letter.
MAX_PRINT_DPI = 600
BAND_BYTES = 16 * 1024 * 1024


def pages_to_print(printer: QPrinter, page_count: int) -> list[int]:
    """The page indexes (from 0) the print dialog asked for, in order; all when no range."""
    if printer.printRange() == QPrinter.PrintRange.PageRange:
        ranges = printer.pageRanges()
        if not ranges.isEmpty():
            # QPageRanges keeps its ranges sorted and merged, as a printer takes them.
            wanted = [index for index in range(page_count) if ranges.contains(index + 1)]
        else:
            first, last = printer.fromPage(), printer.toPage()
            wanted = list(range(first - 1, last)) if first > 0 else []
        return [index for index in wanted if 0 <= index < page_count]
    return list(range(page_count))


def _print_page_in_bands(
    painter: QPainter, document: QPdfDocument, index: int, target: QRectF, dpi: int
) -> None:
    size = document.pagePointSize(index)
    width = max(1, round(size.width() / 72 * dpi))
    height = max(1, round(size.height() / 72 * dpi))
    band = max(1, min(height, BAND_BYTES // (width * 4)))
    scale_x, scale_y = target.width() / width, target.height() / height
    options = QPdfDocumentRenderOptions()
    options.setScaledSize(QSize(width, height))
    top = 0
    while top < height:
        rows = min(band, height - top)
        # QtPdf scales by (clip.right() - clip.left()) / image width, and QRect.right() is
        # left + width - 1: a clip one pixel wider and taller than the band keeps the
        # scale exactly 1, so the bands meet without a seam or a drift down the page.
        options.setScaledClipRect(QRect(0, top, width + 1, rows + 1))
        image: QImage = document.render(index, QSize(width, rows), options)
        placed = QRectF(
            target.left(), target.top() + top * scale_y, width * scale_x, rows * scale_y
        )
        painter.drawImage(placed, image)
        del image
        top += rows


def print_pdf(data: bytes, parent: QWidget | None = None, printer: QPrinter | None = None) -> bool:
    """Print ``data`` (the pages chosen); asks with the print dialog unless a printer is given."""
    document = QPdfDocument()
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    try:
        if printer is None:
            printer = a4_printer()
            dialog = QPrintDialog(printer, parent)
            dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
            dialog.setMinMax(1, max(1, document.pageCount()))
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
        pages = pages_to_print(printer, document.pageCount())
        if not pages:
            return False
        painter = QPainter()
        if not painter.begin(printer):
            return False
        try:
            dpi = min(printer.resolution(), MAX_PRINT_DPI)
            target = QRectF(printer.pageLayout().fullRectPixels(printer.resolution()))
            for position, index in enumerate(pages):
                if position:
                    printer.newPage()
                _print_page_in_bands(painter, document, index, target, dpi)
        finally:
            painter.end()
    finally:
        document.close()
        buffer.close()
    return True
