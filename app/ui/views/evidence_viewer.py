"""The picture viewer of the evidence tab: zoom, fit, pan, rotate and redaction boxes.

Very tall screenshots are shown in two steps: the top rows are decoded at once (a few
milliseconds) so the first view appears immediately, and the whole picture is decoded
off the GUI thread and swapped in when ready. The picture is painted straight from a
QImage, only the part that is on screen, so zooming a 1280×24000 page stays smooth.
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QObject,
    QPointF,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QImageIOHandler,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

if TYPE_CHECKING:
    # Pillow and the evidence service are loaded when a picture is first shown or boxed,
    # not at the window's start.
    from app.services.evidence import Box

ZOOM_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 16.0
# Above this many pixels a picture is decoded on a worker, first shown (when that is quick)
# from a partial or scaled decode: a phone screenshot (2.5 million) took 30-60 ms to decode,
# far longer on a busy PC, and the window froze while it did.
QUICK_VIEW_PIXELS = 1_000_000
# Up to this many pixels the worker's whole decode arrives within a moment (a phone
# screenshot in about 50 ms), so nothing is decoded on the GUI thread first: a partial
# decode of one took 20-40 ms there and paused the window after every import.
WORKER_ONLY_PIXELS = 4_000_000


# Text is shown in a plain-text box whose layout cost grows with the length of each line.
# Intake accepts lines of up to 10,000 characters and 512 KB of text; anything stored
# before those limits is shown in pieces, so no exhibit can stall the window.
SHOWN_LINE_CHARS = 2_000
SHOWN_TEXT_CHARS = 600_000
CONTINUED = "\N{RIGHTWARDS ARROW WITH HOOK} "


def display_text(text: str) -> str:
    """Text as the viewer shows it: long lines in pieces marked as continued, and at most
    ``SHOWN_TEXT_CHARS`` characters (the exhibit itself is kept whole)."""
    shown: list[str] = []
    total = 0
    for line in text.splitlines():
        pieces = [line[i : i + SHOWN_LINE_CHARS] for i in range(0, len(line), SHOWN_LINE_CHARS)]
        for number, piece in enumerate(pieces or [""]):
            shown.append(CONTINUED + piece if number else piece)
            total += len(piece) + 1
            if total > SHOWN_TEXT_CHARS:
                shown.append(
                    "[The rest of this text is not shown here; the exhibit is kept in full.]"
                )
                return "\n".join(shown)
    return "\n".join(shown)


def _reader(data: QByteArray) -> tuple[QImageReader, QBuffer]:
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QBuffer.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    reader.setAllocationLimit(512)
    return reader, buffer


def logical_size(data: bytes) -> QSize:
    """The picture's size as shown (EXIF orientation applied)."""
    reader, _buffer = _reader(QByteArray(data))
    size = reader.size()
    if reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90:
        size = size.transposed()
    return size


def pillow_size(data: bytes) -> QSize:
    """The size as shown of a picture Qt has no reader for (an iPhone's HEIC photo)."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            turned = opened.getexif().get(0x0112) in (5, 6, 7, 8)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return QSize()
    return QSize(height, width) if turned else QSize(width, height)


def decode_with_pillow(data: bytes) -> tuple[QImage, bytes]:
    """Decode a picture off the GUI thread without Qt's image plug-ins.

    Qt's image readers share a lock; a worker decoding with them while the GUI thread read
    through a Python-made QBuffer deadlocked on the interpreter lock. Pillow decodes to raw
    pixels, and a QImage built over raw pixels takes no lock. The QImage borrows the
    returned buffer (copying a 1280x24000 picture would double its 123 MB), so the caller
    keeps both together.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps

    with PILImage.open(io.BytesIO(data)) as opened:
        opened.seek(0)  # the first frame of an animation
        picture = ImageOps.exif_transpose(opened)
        # Pictures without transparency stay three bytes a pixel (a quarter less memory).
        has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        picture = picture.convert("RGBA" if has_alpha else "RGB")
    width, height = picture.size
    raw = picture.tobytes()
    del picture
    if has_alpha:
        image = QImage(raw, width, height, width * 4, QImage.Format.Format_RGBA8888)
    else:
        image = QImage(raw, width, height, width * 3, QImage.Format.Format_RGB888)
    return image, raw


class _DecodeSignals(QObject):
    done = Signal(int, object)  # token, (QImage, pixel buffer) or None


class FullDecode(QRunnable):
    """Decodes the whole picture in a worker thread."""

    def __init__(self, data: bytes, token: int) -> None:
        # Pillow is loaded on first use (the window's start does not need it), and here,
        # on the GUI thread, rather than first inside a worker.
        from PIL import Image as PILImage

        super().__init__()
        self._decompression_bomb = PILImage.DecompressionBombError
        self.data = data
        self.token = token
        self.signals = _DecodeSignals()

    def run(self) -> None:
        try:
            decoded: tuple[QImage, bytes] | None = decode_with_pillow(self.data)
        except (OSError, ValueError, self._decompression_bomb):
            decoded = None
        # The viewer may have closed (or the program quit) while the picture was decoded.
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(self.token, decoded)


class PictureItem(QGraphicsItem):
    """A picture of a fixed logical size painted from whatever decode is available."""

    def __init__(self, size: QSize) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, size.width(), size.height())
        self._image: QImage | None = None
        self._pixels: bytes | None = None
        self._covers = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    @property
    def full_resolution(self) -> bool:
        return (
            self._image is not None
            and self._image.width() == int(self._rect.width())
            and self._image.height() == int(self._rect.height())
        )

    def set_image(self, image: QImage, covers: QRectF, pixels: bytes | None = None) -> None:
        self._image = image
        self._pixels = pixels  # the buffer a borrowed QImage points into
        self._covers = covers
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        exposed = option.exposedRect.intersected(self._rect)  # type: ignore[attr-defined]
        painter.fillRect(exposed, QColor("#e8e8e8"))
        if self._image is None or self._image.isNull():
            return
        target = exposed.intersected(self._covers)
        if target.isEmpty():
            return
        sx = self._image.width() / self._covers.width()
        sy = self._image.height() / self._covers.height()
        source = QRectF(
            (target.x() - self._covers.x()) * sx,
            (target.y() - self._covers.y()) * sy,
            target.width() * sx,
            target.height() * sy,
        )
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image, source)


class PictureView(QGraphicsView):
    """Shows one picture; zoom with Ctrl+wheel or the buttons, drag to pan."""

    zoom_changed = Signal(float)
    boxes_changed = Signal(int)
    full_image_ready = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor("#5f6368"))
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self._item: PictureItem | None = None
        self._zoom = 1.0
        self._rotation = 0
        self._fit: str | None = "page"
        self._token = 0
        self._redacting = False
        self._boxes: list[QGraphicsRectItem] = []
        self._drawing: QGraphicsRectItem | None = None
        self._origin = QPointF()
        self._pending: FullDecode | None = None
        # The box the keyboard moves and resizes (the last drawn, or chosen with Page Up/Down).
        self._current: QGraphicsRectItem | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Exhibit picture")

    # ----- loading ---------------------------------------------------------------------

    def clear_picture(self) -> None:
        self._token += 1
        self.clear_boxes()
        self.scene().clear()
        self._item = None

    def show_picture(self, data: bytes) -> FullDecode | None:
        """Show ``data`` at once (partially for huge pictures); returns a job to finish it.

        The caller runs the returned job on a thread pool; when it completes the full
        picture replaces the quick one.
        """
        self.clear_picture()
        self._rotation = 0
        size = logical_size(data)
        qt_reads = not size.isEmpty()
        if not qt_reads:
            size = pillow_size(data)  # HEIC: decoded by Pillow on the worker only
        if size.isEmpty():
            return None
        self._item = PictureItem(size)
        self.scene().addItem(self._item)
        self.scene().setSceneRect(QRectF(0, 0, size.width(), size.height()))
        self._fit = "width" if size.height() > 2 * size.width() else "page"
        self._apply_fit()
        token = self._token
        if qt_reads and size.width() * size.height() <= QUICK_VIEW_PIXELS:
            reader, _buffer = _reader(QByteArray(data))
            image = reader.read()
            self._item.set_image(image, QRectF(0, 0, size.width(), size.height()))
            return None
        if qt_reads and size.width() * size.height() > WORKER_ONLY_PIXELS:
            self._quick_view(data, size)
        job = FullDecode(data, token)
        job.signals.done.connect(self._full_decoded)
        self._pending = job
        return job

    def _quick_view(self, data: bytes, size: QSize) -> None:
        assert self._item is not None
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        rows = int(min(size.height(), max(visible.height(), 400) * 1.5))
        from app.services.evidence import decode_top

        top = decode_top(data, rows) if size.height() > 2 * size.width() else None
        if top is not None:
            image = QImage(
                top.rgba, top.width, top.height, top.width * 4, QImage.Format.Format_RGBA8888
            ).copy()
            self._item.set_image(image, QRectF(0, 0, top.width, top.height))
            return
        if data[:2] != b"\xff\xd8":
            return  # a PNG decodes whole even when scaled: the worker's decode fills it in
        # Photos: a scaled decode (JPEG scales while decoding, so this is quick).
        scale = max(visible.width() / size.width(), visible.height() / size.height(), 0.05)
        reader, _buffer = _reader(QByteArray(data))
        reader.setScaledSize(
            QSize(
                max(1, math.ceil(size.width() * min(scale, 1.0))),
                max(1, math.ceil(size.height() * min(scale, 1.0))),
            )
        )
        image = reader.read()
        self._item.set_image(image, QRectF(0, 0, size.width(), size.height()))

    def _full_decoded(self, token: int, decoded: tuple[QImage, bytes] | None) -> None:
        if token != self._token or self._item is None or decoded is None:
            return
        image, pixels = decoded
        if image.isNull():
            return
        rect = self._item.boundingRect()
        self._item.set_image(image, rect, pixels)
        self._pending = None
        self.full_image_ready.emit()

    @property
    def has_picture(self) -> bool:
        return self._item is not None

    @property
    def full_resolution(self) -> bool:
        return self._item is not None and self._item.full_resolution

    def pixel_bytes(self) -> int:
        """Bytes of decoded pixels the picture on show holds (what its memory is mostly)."""
        image = self._item._image if self._item is not None else None
        return 0 if image is None or image.isNull() else int(image.sizeInBytes())

    # ----- zoom, fit, rotate -------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def rotation(self) -> int:
        return self._rotation

    def _apply(self) -> None:
        self.setTransform(QTransform().rotate(self._rotation).scale(self._zoom, self._zoom))
        self.zoom_changed.emit(self._zoom)

    def _rotated_size(self) -> tuple[float, float]:
        if self._item is None:
            return 1.0, 1.0
        rect = self._item.boundingRect()
        if self._rotation % 180:
            return rect.height(), rect.width()
        return rect.width(), rect.height()

    def _apply_fit(self) -> None:
        # Twice: the first fit may show or hide a scroll bar, which changes the room.
        self._fit_once()
        self._fit_once()

    def _fit_once(self) -> None:
        if self._item is None or self._fit is None:
            return
        width, height = self._rotated_size()
        view = self.viewport().size()
        margin = 8
        by_width = max(view.width() - margin, 1) / width
        by_height = max(view.height() - margin, 1) / height
        self._zoom = by_width if self._fit == "width" else min(by_width, by_height)
        self._apply()
        if self._fit == "width":
            self.centerOn(self._item.boundingRect().center().x(), 0)

    def set_zoom(self, zoom: float) -> None:
        self._fit = None
        self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._apply()

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def fit_width(self) -> None:
        self._fit = "width"
        self._apply_fit()

    def fit_page(self) -> None:
        self._fit = "page"
        self._apply_fit()

    def rotate_right(self) -> None:
        self._rotation = (self._rotation + 90) % 360
        if self._fit:
            self._apply_fit()
        else:
            self._apply()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self._zoom * (ZOOM_STEP**steps))
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_fit()

    # ----- redaction ----------------------------------------------------------------------

    def set_redacting(self, on: bool) -> None:
        self._redacting = on
        self.setDragMode(
            QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag
        )
        self.viewport().setCursor(
            Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor
        )
        if not on:
            self.clear_boxes()

    @property
    def redacting(self) -> bool:
        return self._redacting

    def boxes(self) -> list[Box]:
        """The drawn boxes in the picture's own pixels."""
        from app.services.evidence import Box

        result = []
        for item in self._boxes:
            rect = item.rect().normalized()
            result.append(
                Box(
                    math.floor(rect.x()),
                    math.floor(rect.y()),
                    math.ceil(rect.width()),
                    math.ceil(rect.height()),
                )
            )
        return result

    def add_box(self, box: Box) -> None:
        """Draw a box as if the user had (an accepted suggestion)."""
        if self._item is None:
            return
        item = QGraphicsRectItem(QRectF(box.x, box.y, box.width, box.height))
        item.setBrush(QBrush(QColor(0, 0, 0)))
        item.setPen(QPen(QColor("#d93025"), 0))
        self.scene().addItem(item)
        self._boxes.append(item)
        self.boxes_changed.emit(len(self._boxes))

    def clear_boxes(self) -> None:
        for item in self._boxes:
            self.scene().removeItem(item)
        self._boxes.clear()
        self._current = None
        self.boxes_changed.emit(0)

    def undo_box(self) -> None:
        if self._boxes:
            self.scene().removeItem(self._boxes.pop())
            self._set_current(self._boxes[-1] if self._boxes else None)
            self.boxes_changed.emit(len(self._boxes))

    # ----- redaction with the keyboard --------------------------------------------------
    # Insert (or N) adds a box in the middle of what is shown; the arrow keys move the
    # current box, Shift+arrows resize it (Ctrl for single pixels); Page Up/Down choose
    # another box; Delete removes it. Tab still leaves the picture.

    KEYBOARD_HELP = (
        "Keyboard: Insert adds a box, arrows move it, Shift+arrows resize it (Ctrl for fine "
        "steps), Page Up/Down choose another box, Delete removes it."
    )

    def _box_pen(self, current: bool) -> QPen:
        pen = QPen(QColor("#f9ab00" if current else "#d93025"), 3 if current else 0)
        pen.setCosmetic(True)
        return pen

    def _set_current(self, item: QGraphicsRectItem | None) -> None:
        for box in self._boxes:
            box.setPen(self._box_pen(box is item))
        self._current = item
        if item is not None:
            self.ensureVisible(item)

    def current_box(self) -> Box | None:
        """The box the keyboard acts on, in the picture's own pixels."""
        if self._current is None:
            return None
        from app.services.evidence import Box

        rect = self._current.rect().normalized()
        return Box(
            math.floor(rect.x()),
            math.floor(rect.y()),
            math.ceil(rect.width()),
            math.ceil(rect.height()),
        )

    def add_box_here(self) -> None:
        """Add a box in the middle of the visible part of the picture (keyboard drawing)."""
        if not self._redacting or self._item is None:
            return
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        area = visible.intersected(self._item.boundingRect())
        if area.isEmpty():
            area = self._item.boundingRect()
        width = max(8.0, area.width() * 0.3)
        height = max(8.0, area.height() * 0.08)
        centre = area.center()
        item = QGraphicsRectItem(
            QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        )
        item.setBrush(QBrush(QColor(0, 0, 0)))
        self.scene().addItem(item)
        self._boxes.append(item)
        self._set_current(item)
        self.boxes_changed.emit(len(self._boxes))

    def _step(self, fine: bool) -> float:
        # Ten screen pixels, or one picture pixel for fine steps, whatever the zoom.
        return 1.0 if fine else max(1.0, 10.0 / max(self._zoom, 0.01))

    def nudge_box(self, dx: float, dy: float, *, resize: bool = False) -> None:
        """Move (or resize) the current box by dx, dy picture pixels, kept on the picture."""
        if self._current is None or self._item is None:
            return
        bounds = self._item.boundingRect()
        rect = self._current.rect().normalized()
        if resize:
            rect.setWidth(min(max(2.0, rect.width() + dx), bounds.right() - rect.left()))
            rect.setHeight(min(max(2.0, rect.height() + dy), bounds.bottom() - rect.top()))
        else:
            x = min(max(rect.left() + dx, bounds.left()), bounds.right() - rect.width())
            y = min(max(rect.top() + dy, bounds.top()), bounds.bottom() - rect.height())
            rect.moveTo(x, y)
        self._current.setRect(rect)
        self.ensureVisible(self._current)
        self.boxes_changed.emit(len(self._boxes))

    def remove_current_box(self) -> None:
        if self._current is None:
            return
        index = self._boxes.index(self._current)
        self.scene().removeItem(self._boxes.pop(index))
        self._set_current(self._boxes[min(index, len(self._boxes) - 1)] if self._boxes else None)
        self.boxes_changed.emit(len(self._boxes))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._redacting or self._item is None:
            super().keyPressEvent(event)
            return
        key = event.key()
        mods = event.modifiers()
        fine = bool(mods & Qt.KeyboardModifier.ControlModifier)
        resize = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        arrows = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in (Qt.Key.Key_Insert, Qt.Key.Key_N):
            self.add_box_here()
        elif key in arrows and self._current is not None:
            dx, dy = arrows[Qt.Key(key)]
            step = self._step(fine)
            self.nudge_box(dx * step, dy * step, resize=resize)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_current_box()
        elif key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) and self._boxes:
            index = self._boxes.index(self._current) if self._current in self._boxes else -1
            index += 1 if key == Qt.Key.Key_PageDown else -1
            self._set_current(self._boxes[index % len(self._boxes)])
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _clamp(self, point: QPointF) -> QPointF:
        assert self._item is not None
        rect = self._item.boundingRect()
        return QPointF(
            min(max(point.x(), rect.left()), rect.right()),
            min(max(point.y(), rect.top()), rect.bottom()),
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if (
            self._redacting
            and self._item is not None
            and event.button() == Qt.MouseButton.LeftButton
        ):
            self._origin = self._clamp(self.mapToScene(event.position().toPoint()))
            self._drawing = QGraphicsRectItem(QRectF(self._origin, self._origin))
            self._drawing.setBrush(QBrush(QColor(0, 0, 0)))
            self._drawing.setPen(QPen(QColor("#d93025"), 0))
            self.scene().addItem(self._drawing)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drawing is not None:
            point = self._clamp(self.mapToScene(event.position().toPoint()))
            self._drawing.setRect(QRectF(self._origin, point).normalized())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drawing is not None:
            rect = self._drawing.rect()
            if rect.width() * self._zoom < 3 or rect.height() * self._zoom < 3:
                self.scene().removeItem(self._drawing)
            else:
                self._boxes.append(self._drawing)
                self._set_current(self._drawing)
                self.boxes_changed.emit(len(self._boxes))
            self._drawing = None
            event.accept()
            return
        super().mouseReleaseEvent(event)
