"""Read account files into (line number, raw record) pairs.

Formats: CSV with a header row, a JSON array, or JSON Lines. The encoding is UTF-8 (a BOM is
fine), with a Latin-1 fallback for files that are not valid UTF-8. A structural problem (a
truncated JSON array, a CSV the csv module cannot parse) raises ImportFormatError; a bad line
in JSON Lines is a bad record, so it is reported as one and reading goes on.
"""

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("csv", "json", "jsonl")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
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
    encoding, warnings = _detect_encoding(path)
    file_format = file_format or _EXTENSIONS.get(path.suffix.lower()) or _sniff(path, encoding)
    if file_format not in FORMATS:
        raise ImportFormatError(f"{path}: unknown format {file_format!r}")
    return SourceFile(path, file_format, encoding, warnings)


def read_records(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """Yield (line number, record or BadLine) for every record in the file."""
    readers = {"csv": _read_csv, "json": _read_json_array, "jsonl": _read_json_lines}
    return readers[source.file_format](source)


def _detect_encoding(path: Path) -> tuple[str, list[str]]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            return "latin-1", [
                f"{path.name} is not valid UTF-8 ({error.reason} at byte {error.start} of a "
                "chunk); read as Latin-1, check accented names"
            ]
    return "utf-8-sig", []


def _sniff(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding) as handle:
        head = handle.read(4096).lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        return "jsonl"
    return "csv"


def _read_csv(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    with source.path.open(encoding=source.encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)  # a stray quote is an error, not a guess
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


def _read_json_array(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    text = source.path.read_text(encoding=source.encoding)
    decoder = json.JSONDecoder()
    # Decode element by element so every record keeps the line it starts on.
    position = _skip_space(text, 0)
    if text[position:position + 1] != "[":
        raise ImportFormatError(f"{source.path}: a JSON file must hold an array of accounts")
    line, counted_to = 1, 0
    position = _skip_space(text, position + 1)
    if text[position:position + 1] == "]":
        return
    while True:
        line += text.count("\n", counted_to, position)
        counted_to = position
        try:
            element, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ImportFormatError(
                f"{source.path}: line {error.lineno} column {error.colno}: {error.msg}") from None
        except RecursionError:
            raise ImportFormatError(f"{source.path}: line {line}: JSON nested too deeply") from None
        yield line, element if isinstance(element, dict) else BadLine(
            f"expected an object, got {type(element).__name__}", "record")
        position = _skip_space(text, position)
        separator = text[position:position + 1]
        if separator == "]":
            if text[_skip_space(text, position + 1):].strip():
                raise ImportFormatError(f"{source.path}: text after the closing bracket")
            return
        if separator != ",":
            line += text.count("\n", counted_to, position)
            raise ImportFormatError(
                f"{source.path}: line {line}: expected ',' or ']' after an element"
                + (" (the file ends early)" if not separator else ""))
        position = _skip_space(text, position + 1)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_json_lines(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    with source.path.open(encoding=source.encoding) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                element = json.loads(line)
            except json.JSONDecodeError as error:
                yield line_number, BadLine(f"invalid JSON ({error.msg})")
                continue
            except RecursionError:
                yield line_number, BadLine("JSON nested too deeply")
                continue
            yield line_number, element if isinstance(element, dict) else BadLine(
                f"expected an object, got {type(element).__name__}", "record")

