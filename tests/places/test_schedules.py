from datetime import time

import pytest

from places.schedules import ScheduleSpec, format_schedule, parse_schedules


def test_it_reads_every_week_and_nth_week_patterns():
    specs = parse_schedules("毎週水曜 10:00-12:00、第2・第4土曜 11:00～14:00")
    assert specs == [
        ScheduleSpec(2, time(10), time(12), ()),
        ScheduleSpec(5, time(11), time(14), (2, 4)),
    ]


def test_it_accepts_semicolons_full_width_digits_and_youbi():
    specs = parse_schedules("第１・３金曜日 １３：３０〜１５：００; 毎週月曜 9:00-10:00")
    assert specs[0] == ScheduleSpec(4, time(13, 30), time(15), (1, 3))
    assert specs[1].weekday == 0


def test_it_displays_in_japanese():
    assert format_schedule(5, [2, 4], time(11), time(14)) == "第2・第4土曜 11:00〜14:00"
    assert format_schedule(2, [], time(10), time(12)) == "毎週水曜 10:00〜12:00"


@pytest.mark.parametrize(
    "text",
    ["水曜 10:00-12:00", "毎週水曜", "毎週水曜 12:00-10:00", "第6土曜 11:00-14:00", "毎週水曜 25:00-26:00", "毎日"],
)
def test_it_rejects_anything_else_with_a_japanese_message(text):
    with pytest.raises(ValueError, match="開催日時|時刻"):
        parse_schedules(text)


def test_empty_means_no_schedule():
    assert parse_schedules("") == []
