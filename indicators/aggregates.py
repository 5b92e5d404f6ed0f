"""Counting every yearly figure from the raw rows into the stored aggregates (the job's work)."""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.indicators import Tally, scoped_organization_ids, tally_cases
from indicators.models import AggregateRun, FigureCount
from meetings.indicators import tally_meetings
from places.indicators import tally_places
from referrals.indicators import median_of, tally_referrals

# Advisory-lock key (class 0x4A53 "JS" like the access log's, key 0x494E "IN"): one refresh writes at a time.
_LOCK = (0x4A53, 0x494E)


def count_everything() -> Tally:
    """Count every figure of every 年度 and scope, reading each source table once."""
    tally = Tally(scoped_organization_ids())
    tally_cases(tally)
    tally_meetings(tally)
    tally_referrals(tally)
    tally_places(tally)
    return tally


def aggregates_refresh(*, run: AggregateRun | None = None, by=None) -> AggregateRun:
    """Recount every figure from the raw rows and replace the stored aggregates in one transaction."""
    started = time.monotonic()
    tally = count_everything()
    counts = tally.result()
    medians = {f"{fy}:{scope or 'all'}": median_of(days) for (fy, scope), days in tally.response_days.items() if days}
    with transaction.atomic(durable=True):
        if connection.vendor == "postgresql":
            # Two refreshes at once would both delete and both insert; the second waits for the first.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_LOCK))
        FigureCount.objects.all().delete()
        FigureCount.objects.bulk_create(
            (
                FigureCount(fiscal_year=fy, organization_id=scope, figure=key, month=month, value=value)
                for (fy, scope, key, month), value in counts.items()
            ),
            batch_size=5000,
        )
        if run is None:
            run = AggregateRun.objects.create(requested_by=by)
        run.finished_at = timezone.now()
        run.ok = True
        run.rows = len(counts)
        run.seconds = round(time.monotonic() - started, 2)
        run.medians = medians
        run.outcome = _("%(n)d件の集計値を保存しました") % {"n": len(counts)}
        run.save()
    return run
