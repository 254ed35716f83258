"""The fulfilment export: kinds, columns, who approved and when, file names, formula escaping,
the "for Excel" file opened by LibreOffice, and the CLI's one-line file errors."""

import csv
import io
import os
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from perks.auth.users import create_user, get_or_create_brand
from perks.campaigns import allocation, service
from perks.campaigns.export import (
    ANALYST_COLUMNS,
    FULFILMENT_COLUMNS,
    ExportError,
    export_csv,
    export_filename,
    options,
    safe_cell,
)
from perks.models import Account, User
from tests.conftest import FAST_HASH, TEST_PASSWORD
from tests.test_campaigns import gen_campaign, gen_pool

HOSTILE = {"=cmd|'/c calc'!A1": "=1+2", "+plus": "+SUM(A1)", "-minus": "-2+3", "@at": "@x",
           "\ttab": "\tx", "\rcr": "\rx"}
ACCENTS = "Zoë Müller-Øst ☕🌸 café"


def _rows(chunks) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks).removeprefix("\ufeff"))))


def _approver(session: Session) -> User:
    brand = get_or_create_brand(session=session, name="Brand A")
    user = create_user(session=session, email="mia@brand-a.example", password=TEST_PASSWORD,
                       brand=brand, role="manager", hash_method=FAST_HASH)
    session.commit()
    return user


def _approved_campaign(session: Session, **changes):
    ids = gen_pool(session)
    user = _approver(session)
    campaign = gen_campaign(session, **changes)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    allocation.approve(session, campaign, [ids["ana"]], user_id=user.id,
                       today=date(2026, 6, 1))
    session.commit()
    return campaign, ids


def test_formula_cells_are_shown_not_run(session):
    for text in HOSTILE.values():
        assert safe_cell(text) == "'" + text
    assert safe_cell("plain") == "plain" and safe_cell(-3) == -3
    gen_pool(session)
    session.execute(update(Account).where(Account.screen_name == "ana")
                    .values(name="=HYPERLINK(\"http://evil\")"))
    session.commit()
    campaign = gen_campaign(session)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    rows = _rows(export_csv(session, campaign, kind="all"))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://evil\")"


def test_default_file_is_who_gets_the_perk_with_who_approved_it_and_when(session):
    campaign, _ids = _approved_campaign(session)
    rows = _rows(export_csv(session, campaign))
    assert tuple(rows[0]) == FULFILMENT_COLUMNS  # no internal model columns
    assert [(r["handle"], r["status"]) for r in rows] == [("ana", "approved")]
    row = rows[0]
    assert (row["campaign"], row["perk"]) == (campaign.name, campaign.perk_description)
    assert row["profile_url"] == "https://x.com/ana" and row["name"] == "Ana"
    assert row["approved_by"] == "mia@brand-a.example"
    assert row["approved_at"].endswith(" UTC") and row["approved_at"][:4].isdigit()


def test_all_rows_and_the_analyst_variant(session):
    campaign, _ids = _approved_campaign(session)
    everything = _rows(export_csv(session, campaign, kind="all", chunk_rows=1))
    assert [r["status"] for r in everything] == ["approved", "offered", "waitlist"]
    assert tuple(everything[0]) == FULFILMENT_COLUMNS
    assert everything[1]["approved_by"] == "" and everything[1]["approved_at"] == ""
    analyst = _rows(export_csv(session, campaign, kind="analyst"))
    assert tuple(analyst[0]) == FULFILMENT_COLUMNS + ANALYST_COLUMNS
    assert [(r["rank"], r["handle"]) for r in analyst] == [("1", "ana"), ("2", "ben"),
                                                           ("3", "cai")]
    assert analyst[0]["topics"] == "coffee:0.90" and analyst[0]["relevance"] == "0.81"
    assert analyst[0]["review_decision"] == "" and analyst[0]["bot_probability"] != ""
    with pytest.raises(ExportError, match="kind must be one of"):
        list(export_csv(session, campaign, kind="everything"))


def test_file_names_say_campaign_kind_and_date(session):
    campaign = gen_campaign(session, name="Spring Yoga Mats!")
    day = date(2026, 12, 1)
    names = {export_filename(campaign, day, **options(args)) for args in (
        {}, {"kind": "all"}, {"kind": "analyst"}, {"excel": "1"}, {"kind": "all", "excel": "1"})}
    assert "spring-yoga-mats_approved_2026-12-01.csv" in names
    assert "spring-yoga-mats_approved-excel_2026-12-01.csv" in names
    assert len(names) == 5  # no two downloads share a name
    assert options({"all": "1", "bom": "1"}) == {"kind": "all", "excel": True}  # older spelling
    with pytest.raises(ExportError):
        options({"kind": "secret"})


def _xlsx_cells(path: Path) -> list[list[str]]:
    """Every row's cells as text, read from the xlsx LibreOffice wrote (shared strings too)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as book:
        # LibreOffice's own output from our file, not untrusted XML
        shared = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    strings = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")) for si in shared]
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells = []
        for cell in row.iter(f"{{{ns['m']}}}c"):
            value = cell.find("m:v", ns)
            text = "" if value is None else value.text or ""
            cells.append(strings[int(text)] if cell.get("t") == "s" else text)
        rows.append(cells)
    return rows


def test_the_excel_file_opens_in_libreoffice_with_accents_and_emoji(session, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI expects LibreOffice (apt-get install libreoffice-calc)")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc)")
    campaign, ids = _approved_campaign(session, perk_description="Café crème ☕ for two")
    session.execute(update(Account).where(Account.id == ids["ana"]).values(name=ACCENTS))
    session.commit()
    raw = "".join(export_csv(session, campaign, excel=True)).encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")  # the mark Excel and LibreOffice read as UTF-8
    source = tmp_path / "shortlist.csv"
    source.write_bytes(raw)
    # Headless LibreOffice skips the Text Import dialog; these are the options that dialog
    # preselects for this file: comma, double quote, and UTF-8 recognised from the mark.
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--infilter=CSV:44,34,76", "--convert-to", "xlsx", "--outdir", str(tmp_path),
                    str(source)], check=True, capture_output=True, timeout=180)
    cells = _xlsx_cells(tmp_path / "shortlist.xlsx")
    expected = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert cells[0] == list(FULFILMENT_COLUMNS)  # no stray mark in the first header cell
    assert cells == expected
    assert cells[1][2:4] == ["ana", ACCENTS] and cells[1][1] == "Café crème ☕ for two"


@pytest.fixture
def cli_app(sqlite_url, tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(sqlite_url, tmp_path)
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        gen_pool(session)
        service.refresh(session, gen_campaign(session))  # what creating it through a door does
        session.commit()
    yield app
    app.extensions["perks_engine"].dispose()


def _unwritable(tmp_path: Path) -> Path:
    """A folder this process may not write to (as root, only /sys refuses)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked if not os.access(locked, os.W_OK) else Path("/sys")


@pytest.mark.parametrize(("where", "problem"), [
    ("missing", "the folder {folder} does not exist"),
    ("locked", "permission denied"),
])
def test_cli_export_file_errors_are_one_line_and_leave_nothing(cli_app, tmp_path, where,
                                                              problem):
    folder = tmp_path / "missing" if where == "missing" else _unwritable(tmp_path)
    target = folder / "perks-export-test.csv"
    result = cli_app.test_cli_runner().invoke(args=["export", "Coffee week", "-o", str(target)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot write {target}: " + problem.format(
        folder=folder)
    assert not target.exists() and not list(tmp_path.glob("**/.*.part"))


def test_cli_export_writes_the_kind_asked_for(cli_app, tmp_path):
    out = tmp_path / "analyst.csv"
    result = cli_app.test_cli_runner().invoke(
        args=["export", "Coffee week", "-o", str(out), "--kind", "analyst", "--excel"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = _rows([out.read_text(encoding="utf-8")])
    assert tuple(rows[0]) == FULFILMENT_COLUMNS + ANALYST_COLUMNS
    assert not list(tmp_path.glob(".*.part"))


def test_web_export_refuses_an_unknown_kind_in_words(cli_app):
    from tests.conftest import AuthActions, gen_user

    gen_user(cli_app)
    client = cli_app.test_client()
    AuthActions(client).login()
    with Session(cli_app.extensions["perks_engine"]) as session:
        campaign_id = session.execute(select(allocation.entry.c.campaign_id)).scalar() or 1
    answer = client.get(f"/campaigns/{campaign_id}/export.csv?kind=secret")
    assert answer.status_code == 400
    assert "Kind must be one of approved, all, analyst." in answer.data.decode()
