"""Reading places files and running import jobs: dry run first, then one atomic application."""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from casework import jobs
from core.spreadsheets import (
    DecodeError,
    SheetProblem,
    decode_csv_bytes,
    read_xlsx_rows,
    unneutralise_formula,
    xlsx_cell_text,
)
from places.models import PlaceImportJob
from places.resources import HEADERS, REQUIRED_HEADERS, PlaceResource, error_messages

logger = logging.getLogger(__name__)

# Files up to this many rows are checked and applied within the request; larger ones by a job worker.
SYNC_ROW_LIMIT = 300
# How often (in rows) a running job writes its progress.
PROGRESS_EVERY = 100
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class FileProblem(ValueError):
    """The file as a whole cannot be imported (encoding, format, header, empty)."""


@dataclass
class ParsedFile:
    """A places file turned into a dataset, with each data row's spreadsheet row number."""

    dataset: tablib.Dataset
    row_numbers: list[int] = field(default_factory=list)
    encoding: str = ""


def _records_from_csv(data: bytes, encoding: str) -> tuple[list[list[str]], str]:
    try:
        text, used = decode_csv_bytes(data, encoding)
    except DecodeError as error:
        raise FileProblem(error.message) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [list(record) for record in reader], used
    except csv.Error as error:
        raise FileProblem(f"CSVとして読めません（{reader.line_num}行目付近）: {error}") from None


# A places file has a few dozen columns; far more is a mistake or an attack (the header check is per column).
MAX_COLUMNS = 200


def _records_from_xlsx(data: bytes) -> list[list[str]]:
    try:
        return read_xlsx_rows(data, max_columns=MAX_COLUMNS)
    except SheetProblem as problem:
        raise FileProblem(str(problem)) from None


def parse_places_file(data: bytes, *, file_format: str, encoding: str = "auto", forced_operator=None) -> ParsedFile:
    """Turn an uploaded CSV or XLSX into a dataset; raise FileProblem with a Japanese message."""
    if not data.strip(b"\xef\xbb\xbf \r\n\t,"):
        raise FileProblem("ファイルが空です")
    used = ""
    if file_format == "xlsx":
        records = _records_from_xlsx(data)
    elif file_format == "csv":
        records, used = _records_from_csv(data, encoding)
    else:
        raise FileProblem("CSV または XLSX ファイルを選んでください")
    if not records:
        raise FileProblem("ファイルが空です")
    header = [h.strip() for h in records[0]]
    while header and header[-1] == "":
        header.pop()  # Excel leaves empty cells after the last used column.
    if len(header) > MAX_COLUMNS:
        raise FileProblem(f"見出し行の列が多すぎます（{len(header)}列）。{MAX_COLUMNS}列までにしてください")
    if not header:
        raise FileProblem("1行目に見出しがありません")
    for column, name in enumerate(header, start=1):
        if name == "":
            raise FileProblem(f"見出し行の{column}列目が空です")
    counts = Counter(header)
    duplicates = sorted(h for h, n in counts.items() if n > 1)
    if duplicates:
        raise FileProblem(f"見出し行に同じ列名が複数あります: {'、'.join(duplicates)}")
    unknown = [h for h in header if h not in HEADERS]
    if unknown:
        raise FileProblem(f"不明な列があります: {'、'.join(unknown)}（使える列: {'、'.join(HEADERS)}）")
    required = list(REQUIRED_HEADERS) + ([] if forced_operator is not None else ["運営団体"])
    missing = [h for h in required if h not in header]
    if missing:
        raise FileProblem(f"必要な列がありません: {'、'.join(missing)}")
    dataset = tablib.Dataset(headers=header)
    numbers: list[int] = []
    for number, record in enumerate(records[1:], start=2):
        # What our own export added against formula injection is taken off again (exactly that "'").
        cells = [unneutralise_formula(c if isinstance(c, str) else xlsx_cell_text(c)) for c in record]
        if not any(c.strip() for c in cells):
            continue  # blank lines and rows of bare commas carry nothing
        if any(c.strip() for c in cells[len(header) :]):
            raise FileProblem(f"{number}行目に見出しより多くの値があります")
        if any("\x00" in c for c in cells):
            # PostgreSQL text and jsonb cannot hold NUL: the row report itself failed to save (a 500).
            raise FileProblem(f"{number}行目に使用できない文字（NUL文字）が含まれています")
        cells = cells[: len(header)] + [""] * (len(header) - len(cells))
        dataset.append(cells)
        numbers.append(number)
    if not numbers:
        raise FileProblem("データ行がありません（1行目の見出しの下に居場所を入力してください）")
    return ParsedFile(dataset, numbers, used)


@dataclass
class ImportOutcome:
    """What an import did (or, in a dry run, would do), row by row."""

    rows: list[dict]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0


def run_import(parsed: ParsedFile, *, dry_run: bool, operator=None, progress=None) -> ImportOutcome:
    """Import the rows (rolled back when dry_run or when any row fails) and report each row."""
    resource = PlaceResource(operator=operator, progress=progress)
    resource.row_numbers = parsed.row_numbers
    result = resource.import_data(
        parsed.dataset,
        dry_run=dry_run,
        use_transactions=True,
        raise_errors=False,
        rollback_on_validation_errors=True,
    )
    outcome = ImportOutcome(rows=[])
    for message in [str(e.error) for e in result.base_errors]:
        outcome.rows.append({"row": 0, "type": "error", "name": "", "errors": [message]})
        outcome.errors += 1
    for index, row_result in enumerate(result.rows, start=1):
        number = parsed.row_numbers[index - 1]
        name = (
            parsed.dataset[index - 1][parsed.dataset.headers.index("名称")] if "名称" in parsed.dataset.headers else ""
        )
        kind = row_result.import_type
        if kind in ("error", "invalid"):
            outcome.errors += 1
            outcome.rows.append({"row": number, "type": "error", "name": name, "errors": error_messages(row_result)})
            continue
        if kind == "new":
            outcome.created += 1
        elif kind == "update":
            outcome.updated += 1
        else:
            outcome.unchanged += 1
        outcome.rows.append({"row": number, "type": "skip" if kind == "skip" else kind, "name": name, "errors": []})
    if outcome.errors and not dry_run:
        # Nothing was saved: report the would-be counts as zero so no one reads them as done.
        outcome.created = outcome.updated = 0
    return outcome


# ---------------------------------------------------------------------------
# Jobs (the staff screen): the uploaded file is kept under MEDIA_ROOT keyed by the job's token.
# ---------------------------------------------------------------------------


def job_file_path(job: PlaceImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "place_imports" / f"{job.pk}.{job.file_format}"


class _ProgressWriter:
    """Write progress on a connection of its own, so it is visible while the import's transaction runs.

    PostgreSQL only: SQLite allows one writer, and the import's transaction is it (progress is a courtesy).
    """

    def __init__(self):
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def write(self, job_id, processed: int) -> None:
        if self.side is None:
            return
        table = connection.ops.quote_name(PlaceImportJob._meta.db_table)
        try:
            with self.side.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET processed = %s WHERE id = %s", [processed, job_id])  # noqa: S608
        except Exception:  # progress is a courtesy; the import goes on
            logger.debug("progress not recorded", exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _progress_callback(job: PlaceImportJob, writer: _ProgressWriter):
    def progress(index: int) -> None:
        if index % PROGRESS_EVERY == 0:
            writer.write(job.pk, index)
            jobs.still_working()  # a long import keeps its worker's heartbeat fresh

    return progress


def _finish(job: PlaceImportJob, outcome: ImportOutcome, status: str) -> None:
    job.status = status
    job.processed = job.total
    job.created, job.updated, job.unchanged, job.errors = (
        outcome.created,
        outcome.updated,
        outcome.unchanged,
        outcome.errors,
    )
    job.report = outcome.rows
    job.finished_at = timezone.now() if status in {job.Status.DONE, job.Status.FAILED} else None
    job.save()


def _fail(job: PlaceImportJob, message: str) -> None:
    job.status = job.Status.FAILED
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def execute_job(job_id, *, report_progress: bool = True) -> None:
    """Run the job's next phase: the dry run (checking) or the atomic application (applying)."""
    job = PlaceImportJob.objects.select_related("operator").get(pk=job_id)
    try:
        data = job_file_path(job).read_bytes()
        parsed = parse_places_file(
            data, file_format=job.file_format, encoding=job.encoding, forced_operator=job.operator
        )
    except (OSError, FileProblem) as error:
        _fail(job, str(error) if isinstance(error, FileProblem) else "取り込むファイルが見つかりません")
        return
    job.total = len(parsed.row_numbers)
    job.save(update_fields=["total"])
    writer = _ProgressWriter() if report_progress else None
    progress = _progress_callback(job, writer) if writer else None
    try:
        if job.status == job.Status.CHECKING:
            outcome = run_import(parsed, dry_run=True, operator=job.operator, progress=progress)
            _finish(job, outcome, job.Status.CHECKED)
        elif job.status == job.Status.APPLYING:
            outcome = run_import(parsed, dry_run=False, operator=job.operator, progress=progress)
            if outcome.ok:
                _finish(job, outcome, job.Status.DONE)
                job_file_path(job).unlink(missing_ok=True)
            else:
                _finish(job, outcome, job.Status.FAILED)
                job.message = "エラーのある行があったため、何も反映していません。"
                job.save(update_fields=["message"])
    except Exception:
        logger.exception("place import job %s failed", job_id)
        _fail(job, "取り込み中に予期しないエラーが起きました。何も反映していません。")
    finally:
        if writer is not None:
            writer.close()


def fail_abandoned_job(args: list, kwargs: dict) -> None:
    """The job queue gave up on an import whose worker died: say so on the job (nothing was applied)."""
    job_id = kwargs.get("job_id") or (args[0] if args else None)
    job = PlaceImportJob.objects.filter(pk=job_id).first()
    if job is not None and job.is_running:
        _fail(job, "取り込みを実行していた処理が途中で止まりました。何も反映していません。もう一度取り込んでください。")
