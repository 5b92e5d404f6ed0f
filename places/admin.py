"""Admin screens for places, with django-import-export (administrators only)."""

from __future__ import annotations

import csv
import io

import tablib
from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from casework.viewers import viewer_for
from core.spreadsheets import DecodeError, decode_csv_bytes, encode_csv
from places.models import Attendance, Place, PlaceImportJob, PlaceSchedule
from places.resources import PlaceResource


class ExcelCSV(CSV):
    """CSV as Japanese Excel reads and writes it: UTF-8 (BOM or not) or cp932 in, UTF-8 with BOM out."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        data = in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8")
        try:
            text, _used = decode_csv_bytes(data)
        except DecodeError as error:
            raise ValueError(error.message) from None
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
        if not records:
            raise ValueError("ファイルが空です")
        return tablib.Dataset(*records[1:], headers=records[0])

    def export_data(self, dataset, **kwargs):
        content, _replacements = encode_csv(list(dataset.headers), [list(row) for row in dataset])
        return content


class AdministratorsOnly:
    """Admin permissions follow the administrator role (not model permissions)."""

    def _allowed(self, request) -> bool:
        return request.user.is_superuser or viewer_for(request).is_administrator

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class PlaceScheduleInline(admin.TabularInline):
    model = PlaceSchedule
    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or viewer_for(request).is_administrator

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Place)
class PlaceAdmin(AdministratorsOnly, ImportExportModelAdmin):
    resource_classes = [PlaceResource]
    formats = [ExcelCSV, XLSX]
    list_display = ["name", "operator", "kind", "area", "accepts_referrals", "is_active"]
    list_filter = ["kind", "area", "accepts_referrals", "is_active"]
    search_fields = ["name", "area", "address"]
    inlines = [PlaceScheduleInline]

    def has_import_permission(self, request):
        return self._allowed(request)

    def has_export_permission(self, request):
        return self._allowed(request)


@admin.register(PlaceImportJob)
class PlaceImportJobAdmin(AdministratorsOnly, admin.ModelAdmin):
    list_display = ["file_name", "created_by", "status", "total", "created", "updated", "errors", "created_at"]
    readonly_fields = [f.name for f in PlaceImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    """Attendance belongs to referral participants: not browsable in the admin."""

    def has_module_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return False
