"""Read account files into (line number, raw record) pairs.

Formats: CSV with a header row, a JSON array, JSON objects one after another (a single API
response envelope, or pretty-printed objects), or JSON Lines. Encodings: UTF-8 (a BOM is fine),
UTF-16 and UTF-32 with a byte-order mark, and a Latin-1 fallback for files that are not valid
UTF-8. A structural problem (a truncated JSON array, a CSV the csv module cannot parse, a binary
or archive file) raises ImportFormatError; a bad line in JSON Lines is a bad record, so it is
reported as one and reading goes on.

Memory stays bounded whatever the file: JSON is decoded element by element from a buffer of a
few megabytes, and no line or record may exceed MAX_RECORD_CHARS.
"""

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from perks.importing.shapes import HugeNumber, expand_element

FORMATS = ("csv", "json", "jsonl")
EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Files that are certainly not account tables; refused rather than read as text.
UNSUPPORTED_EXTENSIONS = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".xlsx",
                          ".xls", ".ods", ".parquet", ".pdf", ".exe", ".dll", ".so", ".db",
                          ".sqlite", ".pickle", ".pkl")
_MAGIC = ((b"PK\x03\x04", "a ZIP archive (or an Excel workbook)"), (b"\x1f\x8b", "a gzip file"),
          (b"\x7fELF", "a program binary"), (b"MZ", "a Windows program"),
          (b"%PDF", "a PDF document"), (b"7z\xbc\xaf", "a 7-Zip archive"),
          (b"BZh", "a bzip2 file"), (b"\xfd7zXZ", "an xz file"),
          (b"SQLite format 3", "a SQLite database"))
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
MAX_RECORD_CHARS = 8 << 20  # one account is a few kB; 8 M characters is no account
_CHUNK = 1 << 20
# Long bios with quoted newlines are fine; a multi-megabyte "field" means a broken quote.
csv.field_size_limit(1_000_000)


class ImportFormatError(ValueError):
    """The file as a whole cannot be read; nothing from it is stored."""


@dataclass
class BadLine:
    """A line that is not a record at all (invalid JSON in JSON Lines, a ragged CSV row)."""

    reason: str
    field: str = "line"


@dataclass
class SourceFile:
    path: Path
    file_format: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def open_source(path: Path, file_format: str | None = None) -> SourceFile:
    """Check the file can be read and decide its format and encoding."""
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    if path.suffix.lower() in UNSUPPORTED_EXTENSIONS and file_format is None:
        raise ImportFormatError(f"{path}: {path.suffix} files are not supported; perks reads "
                                "CSV, JSON and JSON Lines (unpack or export the file first)")
    encoding, warnings = _detect_encoding(path)
    file_format = file_format or EXTENSIONS.get(path.suffix.lower()) or _sniff(path, encoding)
    if file_format not in FORMATS:
        raise ImportFormatError(f"{path}: unknown format {file_format!r}")
    return SourceFile(path, file_format, encoding, warnings)


def read_records(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """Yield (line number, record or BadLine) for every record in the file.

    An API envelope ({"data": [...], "includes": {"users": [...]}}) yields each user it holds,
    all with the envelope's line.
    """
    readers = {"csv": _read_csv, "json": _read_json, "jsonl": _read_json_lines}
    return readers[source.file_format](source)


def _detect_encoding(path: Path) -> tuple[str, list[str]]:
    with path.open("rb") as handle:
        head = handle.read(8192)
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), None)
    if encoding is None:
        _refuse_binary(path, head)
    decoder = codecs.getincrementaldecoder(encoding or "utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            if encoding is not None:  # a BOM promised this encoding; guessing would garble
                raise ImportFormatError(
                    f"{path}: starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} ({error.reason}); save it as UTF-8") from None
            return "latin-1", [
                f"{path.name} is not valid UTF-8 ({error.reason} at byte {error.start} of a "
                "chunk); read as Latin-1, check accented names"
            ]
    return encoding or "utf-8-sig", []


def _refuse_binary(path: Path, head: bytes) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise ImportFormatError(f"{path}: this is {what}, not CSV, JSON or JSON Lines")
    if len(head) >= 4 and head.count(0) * 4 >= len(head):
        # Text with every other byte NUL is UTF-16 that lost its byte-order mark.
        wide = head[1::2].count(0) * 2 >= len(head) // 2 or head[::2].count(0) * 2 >= len(head) // 2
        raise ImportFormatError(
            f"{path}: " + ("looks like UTF-16 without a byte-order mark; save it as UTF-8"
                           if wide else "binary data (NUL bytes), not CSV, JSON or JSON Lines"))


def _sniff(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding) as handle:
        head = handle.read(4096).lstrip()
        handle.seek(0)
        first_line = handle.readline(MAX_RECORD_CHARS)
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        try:  # one object per line is JSON Lines; an object across lines is plain JSON
            json.loads(first_line)
        except ValueError:
            return "json"
        return "jsonl"
    return "csv"


def _bounded_lines(handle: TextIO, path: Path) -> Iterator[str]:
    """The file's lines, refusing one so long that holding it would take the memory."""
    while line := handle.readline(MAX_RECORD_CHARS):
        if len(line) >= MAX_RECORD_CHARS and not line.endswith("\n"):
            raise ImportFormatError(f"{path}: a line longer than {MAX_RECORD_CHARS:,} "
                                    "characters; not a table of accounts")
        yield line


def _read_csv(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    with source.path.open(encoding=source.encoding, newline="") as handle:
        # A stray quote is an error, not a guess.
        reader = csv.reader(_bounded_lines(handle, source.path), strict=True)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise ImportFormatError(f"{source.path}: empty file or no header row")
            names = [h.strip() for h in header]
            if len(set(names)) != len(names):
                raise ImportFormatError(f"{source.path}: duplicate column names in the header")
            line = reader.line_num + 1
            for row in reader:
                if row and len(row) != len(names):
                    yield line, BadLine(f"{len(row)} fields where the header has {len(names)}")
                elif row:
                    yield line, dict(zip(names, row, strict=True))
                line = reader.line_num + 1
        except csv.Error as error:
            raise ImportFormatError(
                f"{source.path}: line {reader.line_num}: not valid CSV ({error})") from None


_DECODER = json.JSONDecoder()
# Integers of thousands of digits make int() raise; this decoder keeps them as HugeNumber so
# the record becomes a reject naming the field. Only used after the fast decoder failed.
_SAFE_DECODER = json.JSONDecoder(
    parse_int=lambda digits: HugeNumber(digits) if len(digits) > 30 else int(digits))


# orjson reads an integer past 64 bits as a float: a line with a run of 20 digits (19 after
# a minus) anywhere, or a value orjson refuses (NaN, a lone surrogate, 1e400), is read by
# the json module as before. Digits are mapped to '9' so the test is two substring searches.
_NINES = str.maketrans("012345678", "999999999")
_UNREAD = object()


def _fast_line(line: str) -> Any:
    """One JSON Lines line through orjson, or _UNREAD for the json module to read."""
    nines = line.translate(_NINES)
    if "9" * 20 in nines or "-" + "9" * 19 in nines:
        return _UNREAD
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _UNREAD


def _decode(text: str, position: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, position)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _SAFE_DECODER.raw_decode(text, position)


class _JSONStream:
    """Consecutive JSON values read from a text file through a bounded buffer."""

    def __init__(self, handle: TextIO, path: Path):
        self.handle, self.path = handle, path
        self.text, self.position, self.line, self.eof = "", 0, 1, False
        self.counted_to, self.counted_line = 0, 1  # newlines counted incrementally

    def _fill(self, wanted: int = _CHUNK) -> bool:
        if self.eof:
            return False
        self.line = self.line_here()
        chunk = self.handle.read(wanted)
        self.text, self.position = self.text[self.position:] + chunk, 0
        self.counted_to, self.counted_line = 0, self.line
        self.eof = not chunk
        return bool(chunk)

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            text, position = self.text, self.position
            while position < len(text) and text[position] in " \t\r\n":
                position += 1
            self.position = position
            if position < len(text) or not self._fill():
                return text[position:position + 1]

    def take(self) -> str:
        character = self.peek()
        self.position += len(character)
        return character

    def _maybe_incomplete(self, error: json.JSONDecodeError) -> bool:
        """Could more of the file complete this value? (The error is near the buffer's end,
        or a string that opened earlier has not closed yet.)"""
        return not self.eof and (error.pos >= len(self.text) - 16
                                 or error.msg.startswith("Unterminated string"))

    def line_here(self) -> int:
        """The line of the current position (counting only what is new since the last call)."""
        if self.position < self.counted_to:
            return self.line + self.text.count("\n", 0, self.position)
        self.counted_line += self.text.count("\n", self.counted_to, self.position)
        self.counted_to = self.position
        return self.counted_line

    def value(self) -> tuple[int, Any]:
        """The next value and the line it starts on; more is read while it is incomplete."""
        self.peek()
        line = self.line_here()
        while True:
            try:
                element, end = _decode(self.text, self.position)
            except json.JSONDecodeError as error:
                if self._maybe_incomplete(error):
                    if len(self.text) - self.position > MAX_RECORD_CHARS:
                        raise ImportFormatError(
                            f"{self.path}: line {line}: a record longer than "
                            f"{MAX_RECORD_CHARS:,} characters; not an account") from None
                    if self._fill(max(_CHUNK, len(self.text) - self.position)):
                        continue
                error_line = self.line + self.text.count("\n", 0, error.pos)
                raise ImportFormatError(f"{self.path}: line {error_line}: {error.msg}"
                                        + _where(error)) from None
            except RecursionError:
                raise ImportFormatError(
                    f"{self.path}: line {line}: JSON nested too deeply") from None
            if end - self.position > MAX_RECORD_CHARS:
                raise ImportFormatError(
                    f"{self.path}: line {line}: a record longer than "
                    f"{MAX_RECORD_CHARS:,} characters; not an account")
            # A value that ends exactly at the buffer's end may be a number cut in two.
            if end < len(self.text) or self.eof or not isinstance(element, int | float):
                self.position = end
                return line, element
            self._fill()


def _where(error: json.JSONDecodeError) -> str:
    ends_early = (error.pos >= len(error.doc.rstrip()) - 1
                  or error.msg.startswith("Unterminated string"))
    return " (the file ends early)" if ends_early else ""


def _read_json(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """A JSON array of records, or JSON objects one after another, streamed."""
    with source.path.open(encoding=source.encoding) as handle:
        stream = _JSONStream(handle, source.path)
        first = stream.peek()
        if first == "{":
            while stream.peek():
                line, element = stream.value()
                yield from _expanded(line, element)
            return
        if stream.take() != "[":
            raise ImportFormatError(f"{source.path}: a JSON file must hold an array of "
                                    "accounts or account objects")
        if stream.peek() == "]":
            stream.take()
        else:
            while True:
                line, element = stream.value()
                yield from _expanded(line, element)
                separator = stream.take()
                if separator == "]":
                    break
                if separator != ",":
                    raise ImportFormatError(
                        f"{source.path}: line {stream.line_here()}: expected ',' or ']' after "
                        "an element" + (" (the file ends early)" if not separator else ""))
        if stream.peek():
            raise ImportFormatError(f"{source.path}: text after the closing bracket")


def _expanded(line: int, element: Any) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    if not isinstance(element, dict):
        yield line, BadLine(f"expected an object, got {type(element).__name__}", "record")
        return
    for record in expand_element(element):
        yield line, record


def _read_json_lines(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    with source.path.open(encoding=source.encoding) as handle:
        line_number = 0
        while line := handle.readline(MAX_RECORD_CHARS):
            line_number += 1
            if len(line) >= MAX_RECORD_CHARS and not line.endswith("\n"):
                while (rest := handle.readline(_CHUNK)) and not rest.endswith("\n"):
                    pass  # skip the rest of the line without holding it
                yield line_number, BadLine(
                    f"longer than {MAX_RECORD_CHARS:,} characters; not an account")
                continue
            if not line.strip():
                continue
            element = _fast_line(line)
            if element is not _UNREAD:
                yield from _expanded(line_number, element)
                continue
            try:
                element, end = _decode(line, _skip_space(line, 0))
            except json.JSONDecodeError as error:
                yield line_number, BadLine(f"invalid JSON ({error.msg})")
                continue
            except RecursionError:
                yield line_number, BadLine("JSON nested too deeply")
                continue
            if line[end:].strip():
                yield line_number, BadLine("invalid JSON (extra data after the value)")
                continue
            yield from _expanded(line_number, element)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """The files to import: each file given, and the supported files directly inside each
    folder given (sorted; rejects files left by earlier runs skipped)."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file()
                            and p.suffix.lower() in EXTENSIONS
                            and not p.name.endswith(".rejects.csv"))
        else:
            files.append(path)
    return files
