"""Makes Outlook ``.msg`` files for the tests: a small compound-file (CFB v3) writer.

No maintained Python package writes ``.msg`` files, so the tests build their fictional
messages here, from the format's published description ([MS-CFB] and [MS-OXMSG]): each
MAPI property is a stream named ``__substg1.0_<id><type>``, dates sit in the fixed-length
``__properties_version1.0`` stream, attachments are storages ``__attach_version1.0_#N``.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

Tree = dict[str, "bytes | Tree"]


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def write_cfb(tree: Tree) -> bytes:
    """A compound file holding ``tree`` (a name maps to bytes for a stream, or to a tree)."""
    entries: list[dict[str, object]] = [{"name": "Root Entry", "type": 5, "kids": []}]

    def add(folder: Tree, parent: int) -> None:
        for name, value in folder.items():
            index = len(entries)
            entries.append({"name": name, "type": 2 if isinstance(value, bytes) else 1, "kids": []})
            entries[parent]["kids"].append(index)  # type: ignore[attr-defined]
            if isinstance(value, bytes):
                entries[index]["data"] = value
            else:
                add(value, index)

    add(tree, 0)
    mini_stream = b""
    minifat: list[int] = []
    big: list[tuple[int, bytes]] = []
    for index, entry in enumerate(entries):
        data = entry.get("data")
        if not isinstance(data, bytes):
            continue
        entry["size"] = len(data)
        if len(data) < CUTOFF:
            start = len(mini_stream) // MINI
            count = max(1, -(-len(data) // MINI))
            entry["start"] = start if data else END
            if data:
                minifat += [start + i + 1 for i in range(count - 1)] + [END]
                mini_stream += _pad(data, MINI)
        else:
            big.append((index, data))
    directory = b""
    # Sectors: directory, mini FAT, mini stream, big streams, then the FAT itself.
    dir_count = -(-len(entries) * 128 // SECTOR)
    packed = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_bytes = _pad(packed, SECTOR) if minifat else b""
    ministream_bytes = _pad(mini_stream, SECTOR)
    chains: list[int] = []
    body = b""
    next_sector = 0

    def chain(count: int) -> int:
        nonlocal next_sector
        start = next_sector
        for i in range(count):
            chains.append(start + i + 1 if i < count - 1 else END)
        next_sector += count
        return start

    dir_start = chain(dir_count)
    minifat_start = chain(len(minifat_bytes) // SECTOR) if minifat_bytes else END
    mini_start = chain(len(ministream_bytes) // SECTOR) if mini_stream else END
    big_bytes = b""
    for index, data in big:
        entries[index]["start"] = chain(-(-len(data) // SECTOR))
        big_bytes += _pad(data, SECTOR)
    fat_count = 1
    while (next_sector + fat_count) > fat_count * (SECTOR // 4):
        fat_count += 1
    assert fat_count <= 109
    fat_start = next_sector
    fat = chains + [FATSECT] * fat_count
    fat += [FREE] * (fat_count * (SECTOR // 4) - len(fat))
    entries[0]["start"] = mini_start
    entries[0]["size"] = len(mini_stream)

    for entry in entries:
        kids: list[int] = entry["kids"]  # type: ignore[assignment]
        entry["child"] = kids[0] if kids else NOSTREAM
        for position, kid in enumerate(kids):
            entries[kid]["right"] = kids[position + 1] if position + 1 < len(kids) else NOSTREAM
    for entry in entries:
        name = str(entry["name"]).encode("utf-16-le") + b"\x00\x00"
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            int(entry["type"]),  # type: ignore[call-overload]
            1,
            NOSTREAM,
            int(entry.get("right", NOSTREAM)),  # type: ignore[call-overload]
            int(entry["child"]),  # type: ignore[call-overload]
            b"\x00" * 16,
            0,
            0,
            0,
            int(entry.get("start", END)),  # type: ignore[call-overload]
            int(entry.get("size", 0)),  # type: ignore[call-overload]
        )
    directory = _pad(directory, SECTOR)
    # An unused directory slot must say it holds nothing.
    empty = struct.pack(
        "<64sHBBIII16sIQQIQ",
        b"",
        0,
        0,
        0,
        NOSTREAM,
        NOSTREAM,
        NOSTREAM,
        b"\x00" * 16,
        0,
        0,
        0,
        0,
        0,
    )
    used = len(entries) * 128
    directory = directory[:used] + empty * ((len(directory) - used) // 128)
    difat = [fat_start + i for i in range(fat_count)] + [FREE] * (109 - fat_count)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\x00" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,
        fat_count,
        dir_start,
        0,
        CUTOFF,
        minifat_start,
        len(minifat_bytes) // SECTOR,
        END,
        0,
    ) + b"".join(struct.pack("<I", v) for v in difat)
    assert len(header) == SECTOR
    body = directory + minifat_bytes + (ministream_bytes if mini_stream else b"") + big_bytes
    body += b"".join(struct.pack("<I", v) for v in fat)
    return header + body


def _unicode(value: str) -> bytes:
    return value.encode("utf-16-le")


def _filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


def make_msg(
    *,
    subject: str,
    sender_name: str,
    sender_address: str,
    to: str,
    body: str,
    sent_at: datetime,
    message_id: str,
    attachments: list[tuple[str, bytes]],
) -> bytes:
    """A fictional Outlook message with the given headers, body and attachments."""
    props = b"\x00" * 8 + struct.pack("<IIII", 0, len(attachments), 1, len(attachments))
    props += b"\x00" * 8
    props += struct.pack("<IIQ", (0x0039 << 16) | 0x0040, 6, _filetime(sent_at))
    tree: Tree = {
        "__nameid_version1.0": {"__substg1.0_00020102": b"", "__substg1.0_00030102": b""},
        "__properties_version1.0": props,
        "__substg1.0_0037001F": _unicode(subject),
        "__substg1.0_0C1A001F": _unicode(sender_name),
        "__substg1.0_5D01001F": _unicode(sender_address),
        "__substg1.0_0E04001F": _unicode(to),
        "__substg1.0_1000001F": _unicode(body),
        "__substg1.0_1035001F": _unicode(message_id),
    }
    for index, (name, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{index:08X}"] = {
            "__properties_version1.0": b"\x00" * 8,
            "__substg1.0_3707001F": _unicode(name),
            "__substg1.0_37010102": data,
        }
    return write_cfb(tree)
