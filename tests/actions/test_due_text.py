from datetime import UTC, datetime

from actions.cases import due_text


def test_due_times_are_shown_in_beijing_time():
    now = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)  # 13:00 in Beijing
    assert due_text("2026-11-22T15:59:00+00:00", now) == "今天 23:59 前"
    assert due_text("2026-11-27T09:30:00+00:00", now) == "11月27日 17:30 前"
    assert due_text("2026-11-22T17:00:00+00:00", now) == "11月23日 01:00 前"  # tomorrow in Beijing
    assert due_text(None, now) == due_text("not a time", now) == "办理时限内"
