"""Import stage: account files (CSV, JSON array, JSON Lines) into the account store."""

from perks.importing.readers import ImportFormatError
from perks.importing.records import RowError, normalize_record
from perks.importing.store import ImportResult, import_file, import_records

__all__ = [
    "ImportFormatError",
    "ImportResult",
    "RowError",
    "import_file",
    "import_records",
    "normalize_record",
]
