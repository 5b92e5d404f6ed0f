"""Writes of the places app: places and schedules, attendance, import jobs; and place matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from casework.models import Organization
from core.japanese import format_wareki
from places import imports, participants
from places.choices import AttendanceStatus
from places.imports import FileProblem, execute_job, job_file_path, parse_places_file
from places.matching import PlaceMatch, PlaceWishes, rank_places
from places.models import Attendance, Place, PlaceImportJob, PlaceSchedule
from places.schedules import ScheduleSpec
from places.selectors import referral_accepting_places
from places.tasks import run_import_job

__all__ = [
    "FileProblem",
    "PlaceMatch",
    "PlaceWishes",
    "attendance_record",
    "attendance_record_session",
    "import_job_confirm",
    "import_job_start",
    "place_match",
    "place_save",
]


@transaction.atomic
def place_save(*, place: Place, schedules: list[ScheduleSpec] | None, by) -> Place:
    """Validate and save a place; replace its schedules when given."""
    place.full_clean()
    place.save()
    if schedules is not None:
        place.schedules.all().delete()
        PlaceSchedule.objects.bulk_create(
            PlaceSchedule(
                place=place,
                weekday=spec.weekday,
                weeks_of_month=list(spec.weeks_of_month),
                start_time=spec.start_time,
                end_time=spec.end_time,
            )
            for spec in schedules
        )
    return place


def place_match(*, wishes: PlaceWishes, limit: int = 20) -> list[PlaceMatch]:
    """Rank the active places that accept referrals against a person's wishes.

    Deterministic scoring: each wished activity found in the place's tags (or text) +3; same
    地区 +2; open on a wished weekday +2, and within the wished time window +1; each needed
    accommodation offered +2 and each one missing -3; the place's target groups include the
    person's age group +1. A place whose age range excludes the person is left out. Ties are
    broken by name, then id. Every point comes with a reason, every shortfall with a "miss".
    """

    return rank_places(referral_accepting_places(), wishes, limit=limit)


@transaction.atomic
def attendance_record(
    *,
    place: Place,
    participant_ref: str,
    participant_label: str,
    on: date,
    status: str,
    hours: Decimal | float | None,
    note: str,
    by,
    replace: bool = False,
) -> Attendance:
    """Record one participant's attendance at a place on a day; an earlier entry that day is replaced only if asked."""
    if not participant_ref or len(participant_ref) > 60:
        raise ValidationError({"participant_ref": "参加者の参照が正しくありません。"})
    # The app that sent the participant decides whether the place may still record them (a card past
    # its place access period may not be).
    refusal = participants.recording_refusal(place, participant_ref, on)
    if refusal:
        raise ValidationError({"participant_ref": refusal})
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": "出欠の区分が正しくありません。"})
    if status != AttendanceStatus.ATTENDED and hours:
        raise ValidationError({"hours": "参加しなかった日に時間は記録できません。"})
    earlier = Attendance.objects.select_for_update().filter(place=place, participant_ref=participant_ref, on=on).first()
    if earlier is not None and not replace:
        # Never silently: the earlier entry and its note for the referrer would be lost.
        note = f"・ひとこと「{earlier.note}」" if earlier.note else ""
        raise ValidationError(
            {
                "replace": f"{format_wareki(on)}の出欠はすでに記録されています（{earlier.get_status_display()}{note}）。"
                "書き換える場合は「この日の記録を書き換える」にチェックして、もう一度記録してください。"
            },
            code="attendance_exists",
        )
    attendance = earlier or Attendance(place=place, participant_ref=participant_ref, on=on)
    attendance.participant_label = participant_label
    attendance.status = status
    attendance.hours = Decimal(str(hours)) if hours not in (None, "") else None
    attendance.note = note
    attendance.recorded_by = by
    attendance.full_clean(validate_unique=False)
    attendance.save()
    return attendance


def _dispatch(job: PlaceImportJob, row_count: int) -> None:
    """Run a small job now; queue a large one for a worker (in the caller's transaction)."""
    if row_count <= imports.SYNC_ROW_LIMIT:
        execute_job(job.pk, report_progress=False)
    else:
        run_import_job.enqueue(str(job.pk))


def import_job_start(
    *, data: bytes, file_name: str, encoding: str, operator: Organization | None, by
) -> PlaceImportJob:
    """Check an uploaded places file and start its dry run; raise FileProblem for a bad file."""
    file_format = "xlsx" if file_name.lower().endswith(".xlsx") else "csv"
    parsed = parse_places_file(data, file_format=file_format, encoding=encoding, forced_operator=operator)
    # The job row and its queued run (a large file) commit together.
    with transaction.atomic():
        job = PlaceImportJob.objects.create(
            created_by=by,
            operator=operator,
            file_name=file_name[:255],
            file_format=file_format,
            encoding=encoding,
            total=len(parsed.row_numbers),
        )
        path = job_file_path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)
        _dispatch(job, len(parsed.row_numbers))
    job.refresh_from_db()
    return job


def import_job_confirm(*, job: PlaceImportJob, by) -> PlaceImportJob:
    """Apply a checked, error-free job's file atomically (the same file its dry run read)."""
    with transaction.atomic():
        locked = PlaceImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.created_by_id != by.pk:
            raise PermissionDenied
        if locked.status != PlaceImportJob.Status.CHECKED or locked.errors:
            raise ValidationError("この取り込みは反映できる状態ではありません。")
        locked.status = PlaceImportJob.Status.APPLYING
        locked.processed = 0
        locked.save(update_fields=["status", "processed"])
        _dispatch(locked, locked.total)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def attendance_record_session(
    *, place: Place, on: date, entries: list[dict], participants: dict[str, str], by, replace: bool = False
) -> list[Attendance]:
    """Record one session's attendance for several participants at once; all or nothing.

    entries: {"participant_ref", "status", "hours", "note"} per participant to record (the others are left
    alone). An entry that would change a record already kept for that day needs replace, as one at a time.
    """
    recorded = []
    for entry in entries:
        ref = entry["participant_ref"]
        earlier = Attendance.objects.filter(place=place, participant_ref=ref, on=on).first()
        hours = Decimal(str(entry["hours"])) if entry.get("hours") not in (None, "") else None
        if earlier is not None and (earlier.status, earlier.hours, earlier.note) == (
            entry["status"],
            hours,
            entry.get("note", ""),
        ):
            continue  # the same as kept: nothing to replace
        recorded.append(
            attendance_record(
                place=place,
                participant_ref=ref,
                participant_label=participants[ref],
                on=on,
                status=entry["status"],
                hours=hours,
                note=entry.get("note", ""),
                by=by,
                replace=replace,
            )
        )
    return recorded


def attendance_dispose(*, participant_refs: list[str]) -> int:
    """Delete the attendance kept under these participants (their referral is being disposed of); return how many.

    Only casework's disposal calls it, inside the approved decision's transaction (casework.retention).
    """
    if not participant_refs:
        return 0
    deleted, _per_model = Attendance.objects.filter(participant_ref__in=participant_refs).delete()
    return deleted
