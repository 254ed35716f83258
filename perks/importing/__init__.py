"""Import stage: account files (CSV, JSON array, JSON Lines) into the account store."""

from perks.importing.readers import ImportFormatError, expand_paths
from perks.importing.records import RowError, normalize_record
from perks.importing.shapes import MappingError, parse_mapping
from perks.importing.store import ImportResult, import_file, import_records, undo_import

__all__ = [
    "ImportFormatError",
    "ImportResult",
    "MappingError",
    "RowError",
    "expand_paths",
    "import_file",
    "import_records",
    "normalize_record",
    "parse_mapping",
    "undo_import",
]
