"""Reading a contact list that staff exported from a spreadsheet: decoding, columns, checks.

Pure reading and checking; storing is ``services.import_contacts``. Every row is checked
and every problem reported with its line number, so a list is fixed once, not row by row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

#: Column names staff use, in German and English, normalised (lower case, no spaces,
#: dashes, dots or underscores).
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "vollername", "vorundnachname", "kontakt", "contact"),
    "email": ("email", "emailadresse", "emailaddress", "mail", "mailadresse"),
    "phone": ("phone", "phonenumber", "telephone", "mobile", "mobilephone", "telefon",
              "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer", "tel"),
    "unit": ("unit", "unitcode", "einheit", "gliederung", "region", "ortsgruppe", "code"),
    "language": ("language", "lang", "sprache", "languagecode", "sprachcode"),
}

EMAIL_PATTERN = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]{2,}$")
PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()/.\-]+$")
MAX_ROWS = 5000

# i18n: reasons a row of an uploaded contact list was rejected
REASONS = {
    "no_address": _l("Neither an e-mail address nor a phone number."),
    "email": _l("The e-mail address is not valid."),
    "phone": _l("The phone number may only contain digits, spaces, +, -, /, brackets and "
                "must have at least 6 digits."),
    "duplicate_existing": _l("This person is already in the contact list."),
    "too_long": _l("A value is too long."),
}


class ListUnreadable(ValueError):
    """The file as a whole cannot be read; ``reason`` is a translated message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def one_line(text: str) -> str:
    """``text`` fit for a mail header: line breaks (also U+2028) and control characters become
    single spaces, which the standard library would otherwise refuse in a header."""
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch
                            for ch in text).split())


@dataclass
class ContactRow:
    """One data row of the file, normalised, with the reasons it was rejected (if any)."""

    line: int
    name: str
    email: str | None
    phone: str | None
    unit_code: str
    language: str
    unit_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """Whether the row may be imported."""
        return not self.problems


@dataclass
class ContactList:
    """What an uploaded file holds: its rows, good and bad, in file order."""

    rows: list[ContactRow]

    @property
    def valid(self) -> list[ContactRow]:
        """Rows without problems."""
        return [row for row in self.rows if row.is_valid]

    @property
    def rejected(self) -> list[ContactRow]:
        """Rows with at least one problem."""
        return [row for row in self.rows if not row.is_valid]


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # every byte is a Latin-1 character


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # One column, or quoting the sniffer does not understand: count in the header line.
        header = text.splitlines()[0] if text else ""
        return max(",;\t", key=header.count)


def _normal_header(name: str) -> str:
    return re.sub(r"[\s\-_.]", "", name.strip().lower().replace("ä", "ae"))


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _normal_header(name)
        for field_name, names in HEADER_NAMES.items():
            if key in names and field_name not in found:
                found[field_name] = index
    return found


def normalise_email(value: str) -> str | None:
    """Lower-cased address, or ``None`` when empty."""
    value = value.strip().lower()
    return value or None


def normalise_phone(value: str) -> str | None:
    """Digits with an optional leading ``+`` (``00`` becomes ``+``), or ``None`` when empty."""
    value = value.strip()
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def read_contacts(data: bytes, *, languages: list[str], base_language: str,
                  unit_ids: dict[str, int], existing_emails: set[str],
                  existing_phones: set[str]) -> ContactList:
    """Parse and check every row of an uploaded contact list.

    :param unit_ids: unit code (lower case) to unit id.
    :raise ListUnreadable: no header row with an e-mail or phone column, or too many rows.
    """
    text = decode(data)
    if not text.strip():
        raise ListUnreadable(str(_l("The file is empty.")))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise ListUnreadable(str(_l("The file could not be read as a CSV table."))) from error
    columns = _columns(header)
    if "email" not in columns and "phone" not in columns:
        raise ListUnreadable(str(_l(
            "The first line must name the columns, with at least one of “email” (E-Mail) "
            "or “phone” (Telefon); also possible: “name”, “unit” (Einheit), "
            "“language” (Sprache).")))
    offered = {lang.lower(): lang for lang in languages}
    seen: dict[str, int] = {}
    rows: list[ContactRow] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise ListUnreadable(str(_l("The file has more than %(count)s rows; please "
                                            "split it.", count=MAX_ROWS)))

            def cell(name: str, record=record) -> str:
                index = columns.get(name)
                return record[index].strip() if index is not None and index < len(record) else ""

            raw_email, raw_phone = cell("email"), cell("phone")
            # A name is one line: a line break inside a quoted cell would end up in mail headers.
            row = ContactRow(line=line, name=one_line(cell("name")),
                             email=normalise_email(raw_email),
                             phone=normalise_phone(raw_phone), unit_code=cell("unit"),
                             language=cell("language"))
            _check(row, raw_phone, offered, base_language, unit_ids, seen,
                   existing_emails, existing_phones)
            rows.append(row)
    except csv.Error as error:
        raise ListUnreadable(str(_l("The file could not be read as a CSV table."))) from error
    return ContactList(rows)


def _check(row: ContactRow, raw_phone: str, offered: dict[str, str], base_language: str,
           unit_ids: dict[str, int], seen: dict[str, int], existing_emails: set[str],
           existing_phones: set[str]) -> None:
    problems = row.problems
    if row.email is None and row.phone is None:
        problems.append(str(REASONS["no_address"]))
    if row.email is not None and (len(row.email) > 254 or not EMAIL_PATTERN.match(row.email)):
        problems.append(str(REASONS["email"]))
    if row.phone is not None and (not PHONE_ALLOWED.match(raw_phone)
                                  or not 6 <= len(row.phone.lstrip("+")) <= 20):
        problems.append(str(REASONS["phone"]))
    if row.unit_code:
        row.unit_id = unit_ids.get(row.unit_code.lower())
        if row.unit_id is None:
            problems.append(str(_l("There is no unit with the code “%(code)s”.",
                                   code=row.unit_code)))
    if row.language:
        language = offered.get(row.language.lower())
        if language is None:
            problems.append(str(_l("This questionnaire is not offered in the language "
                                   "“%(code)s”.", code=row.language)))
        else:
            row.language = language
    else:
        row.language = base_language
    if len(row.name) > 200:
        problems.append(str(REASONS["too_long"]))
    keys = [k for k in (row.email and "e:" + row.email, row.phone and "p:" + row.phone) if k]
    earlier = next((seen[k] for k in keys if k in seen), None)
    if earlier is not None:
        problems.append(str(_l("The same e-mail address or phone number appears earlier in "
                               "the file (line %(line)s).", line=earlier)))
    elif row.email in existing_emails or row.phone in existing_phones:
        problems.append(str(REASONS["duplicate_existing"]))
    for key in keys:
        seen.setdefault(key, row.line)
