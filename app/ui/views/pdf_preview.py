"""A PDF shown inside the window (QtPdf), plus printing a PDF on an A4 printer."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
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


def print_pdf(data: bytes, parent: QWidget | None = None, printer: QPrinter | None = None) -> bool:
    """Print every page of ``data``; asks with the print dialog unless a printer is given."""
    if printer is None:
        printer = a4_printer()
        dialog = QPrintDialog(printer, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
    document = QPdfDocument()
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    painter = QPainter()
    if not painter.begin(printer):
        return False
    try:
        dpi = printer.resolution()
        target = printer.pageLayout().fullRectPixels(dpi)
        for index in range(document.pageCount()):
            if index:
                printer.newPage()
            size = document.pagePointSize(index)
            pixels = QSize(round(size.width() / 72 * dpi), round(size.height() / 72 * dpi))
            image: QImage = document.render(index, pixels)
            painter.drawImage(target, image)
    finally:
        painter.end()
        document.close()
        buffer.close()
    return True
