"""Checks on a workbook's bytes before anything parses it: size, zip bombs, passwords,
macros and formulas each get one clear line rather than a traceback or a slow parse."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Final

from bot.core.i18n import Message
from bot.survey.loader import too_large

MAX_FILE_BYTES: Final = 5_000_000
"""An XLSForm is a few hundred kilobytes at most; a 50 MB upload is refused unread."""
MAX_UNPACKED_BYTES: Final = 50_000_000
MAX_RATIO: Final = 200
"""How much larger than its compressed size a part of the workbook may be."""
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""Compound File: an encrypted (password-protected) workbook, or an old binary .xls."""
_FORMULA: Final = re.compile(rb"<(?:\w+:)?f[\s>/]")


class WorkbookRefused(Exception):
    """A file that is not a safe, plain .xlsx workbook; `reason` is one line."""

    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.reason = reason


def read_workbook(path: Path) -> bytes:
    """A workbook's bytes, refused unread when the file is too large."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WorkbookRefused(_too_large(size))
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkbookRefused(Message("file not found")) from None
    except IsADirectoryError:
        raise WorkbookRefused(Message("is a directory, not a workbook")) from None
    except OSError as error:
        reason = str(error.strerror or error)
        raise WorkbookRefused(Message("file cannot be read ({reason})", reason=reason)) from None


def _too_large(size: int) -> Message:
    return too_large(size, MAX_FILE_BYTES)


def check_workbook(data: bytes) -> None:
    """Raise `WorkbookRefused` unless `data` is a plain .xlsx workbook that is safe to read."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused(_too_large(len(data)))
    if data.startswith(_OLE):
        raise WorkbookRefused(
            Message(
                "the workbook is password-protected or in the old .xls format: "
                "save it as .xlsx without a password"
            )
        )
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise WorkbookRefused(Message("the file is not an Excel workbook (.xlsx)")) from None
    with archive:
        names = {member.filename for member in members}
        if "xl/workbook.xml" not in names:
            raise WorkbookRefused(
                Message("the file is a zip archive, not an Excel workbook (.xlsx)")
            )
        if any(member.flag_bits & 0x1 for member in members):
            raise WorkbookRefused(
                Message("the workbook is password-protected: save it without a password")
            )
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES or any(
            member.file_size > 1_000_000
            and member.file_size > MAX_RATIO * max(member.compress_size, 1)
            for member in members
        ):
            raise WorkbookRefused(
                Message("the workbook unpacks to far more than it holds (a zip bomb?)")
            )
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise WorkbookRefused(Message("the workbook contains macros: save it as a plain .xlsx"))
        for name in sorted(names):
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                sheet = archive.read(name)
                if _FORMULA.search(sheet):
                    raise WorkbookRefused(
                        Message(
                            "the workbook contains formulas: paste their values instead ({sheet})",
                            sheet=name.removeprefix("xl/worksheets/"),
                        )
                    )
