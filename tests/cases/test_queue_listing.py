"""Queue pages (bot/cases/listing.py) and what the search box and filters read (bot/cases/search.py):
paging boundaries and a stable order, filters combined, search by number / phone / last 4 / name,
and the phone in the results masked for whoever may not see the contact."""

from __future__ import annotations

import pytest

from bot.cases.desk import BOT
from bot.cases.model import CaseError, CaseType, Hotline, Priority, Status
from bot.cases.search import CaseFilters, SearchTerm, normalize_phone, parse_filters, parse_search, phone_last4
from bot.cases.store import Case
from tests.cases.conftest import new_case


def make_cases(desk, n: int, **kw) -> list[str]:
    return [desk.create_case(new_case(sender_id=f"conv-{i}", **kw), BOT)[0]["number"] for i in range(n)]


# ---------------------------------------------------------------- reading what was typed


@pytest.mark.parametrize(
    "typed, kind, value",
    [
        ("GD20261122K7M3QX", "number", "GD20261122K7M3QX"),
        (" gd20261122k7m3qx ", "number", "GD20261122K7M3QX"),
        ("ＧＤ２０２６１１２２Ｋ７Ｍ３ＱＸ", "number", "GD20261122K7M3QX"),
        ("20261122k7m3qx", "number", "GD20261122K7M3QX"),
        ("20250521000012", "number", "GD20250521000012"),  # an old all-digit number without GD
        ("13812345678", "phone", "13812345678"),
        ("+86 138-1234-5678", "phone", "13812345678"),
        ("0818-1234567", "phone", "08181234567"),
        ("5678", "last4", "5678"),
        ("张", "name", "张"),
        ("王小明", "name", "王小明"),
    ],
)
def test_what_the_search_box_reads(typed, kind, value):
    term = parse_search(typed)
    assert (term.kind, term.value) == (kind, value)


def test_a_masked_phone_and_nonsense():
    assert parse_search("138****5678") == SearchTerm("masked_phone", "5678", prefix="138")
    assert parse_search("   ") is None
    for bad in ("123", "12345678901234567", "1" * 60):
        with pytest.raises(CaseError):
            parse_search(bad)


def test_phone_normal_form_and_last4():
    assert normalize_phone("+86 138 1234 5678") == normalize_phone("13812345678") == "13812345678"
    assert phone_last4("138-1234-5678") == "5678"
    assert phone_last4("110") is None and phone_last4(None) is None


def test_filters_read_and_refuse():
    f = parse_filters({"type": "urgent", "place": "达州", "hotline": "12349", "overdue": "1"})
    assert f == CaseFilters(type=CaseType.urgent, place="达州市", hotline="12349", overdue=True)
    assert set(f.places()) == {"达州市", "渠县"}
    assert parse_filters(f.as_params()) == f
    for bad in ({"type": "nope"}, {"place": "成都"}, {"priority": "asap"}, {"status": "x"}, {"overdue": "maybe"}):
        with pytest.raises(CaseError):
            parse_filters(bad)


# ---------------------------------------------------------------- paging


def test_pages_cover_the_queue_once_in_a_stable_order(desk, people, clock):
    numbers = []
    for i in range(7):
        numbers += make_cases(desk, 1)
        if i % 2:
            clock.advance(minutes=1)  # several cases share a creation time: the id decides
    pages = [desk.page_queue("unassigned", people.sup, limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [len(p.cases) for p in pages] == [3, 3, 1, 0]
    assert [c["number"] for p in pages for c in p.cases] == numbers
    first, last = pages[0], pages[2]
    assert (first.total, first.pages, first.page, first.has_previous, first.has_next) == (7, 3, 1, False, True)
    assert (last.page, last.has_previous, last.has_next) == (3, True, False)
    exact = desk.page_queue("unassigned", people.sup, limit=7)
    assert exact.pages == 1 and not exact.has_next
    assert desk.page_queue("unassigned", people.sup, limit=10_000).limit == 500  # the documented maximum


def test_the_all_queue_is_newest_first_then_by_id(desk, people, clock):
    older = make_cases(desk, 2)
    clock.advance(hours=1)
    newer = make_cases(desk, 2)
    got = [c["number"] for c in desk.page_queue("all", people.sup, limit=50).cases]
    assert got == newer[::-1] + older[::-1]


# ---------------------------------------------------------------- filters, combined


def test_filters_combine(desk, people, clock):
    make_cases(desk, 2, type="consultation")
    urgent_quxian = make_cases(desk, 1, type="urgent", jurisdiction="渠县")
    make_cases(desk, 1, type="urgent", jurisdiction="会宁县")
    overdue_complaint = make_cases(desk, 1, type="complaint", jurisdiction="巴中")

    def numbers(**kw):
        page = desk.page_queue("all", people.sup, CaseFilters(**kw), limit=50)
        assert page.total == len(page.cases)
        return sorted(c["number"] for c in page.cases)

    assert numbers(type=CaseType.urgent, place="达州市") == urgent_quxian
    assert len(numbers(place="四川省")) == 4
    assert numbers(type=CaseType.urgent, priority=Priority.low) == []
    assert len(numbers(status=Status.new)) == 5
    clock.advance(hours=30)  # the urgent ones are due the same day, the others later
    rows = desk.page_queue("all", people.sup, limit=50).cases
    overdue = sorted(c["number"] for c in rows if c["overdue"])
    assert urgent_quxian[0] in overdue and overdue_complaint[0] not in overdue and len(overdue) == 2
    assert numbers(overdue=True) == overdue
    assert numbers(overdue=True, place="达州市") == urgent_quxian
    assert numbers(overdue=True, type=CaseType.complaint) == []
    hotline = desk.page_queue("all", people.sup, CaseFilters(hotline=Hotline.h12349), limit=50).cases
    assert all(c["hotline"] == "12349" for c in hotline)


# ---------------------------------------------------------------- search


def test_search_by_number_phone_last4_and_name(desk, people):
    a = desk.create_case(new_case(contact={"name": "张三丰", "phone": "138-1234-5678"}), BOT)[0]["number"]
    b = desk.create_case(new_case(contact={"name": "李四", "phone": "13912345678"}), BOT)[0]["number"]
    c = desk.create_case(new_case(contact={"name": "王五", "phone": "0818-7654321"}), BOT)[0]["number"]
    make_cases(desk, 3, contact={"name": "赵六", "phone": "13700001111"})

    def found(text):
        return sorted(x["number"] for x in desk.page_queue("all", people.sup, search=parse_search(text)).cases)

    assert found(a.lower()) == [a]
    assert found(a[2:]) == [a]  # without GD
    assert found("13812345678") == [a]  # the full number, stored with hyphens
    assert found("+86 138 1234 5678") == [a]
    assert found("5678") == sorted([a, b])  # the last 4 digits: both
    assert found("138****5678") == [a]
    assert found("07654321") == []  # same last 4 as c, another number
    assert found("0818-7654321") == [c]
    assert found("张") == [a] and found("三丰") == [a] and found("孙") == []
    assert found("%") == []  # LIKE's wildcard is a character here
    # search and the queue together: a claimed case leaves "unassigned"
    desk.assign(a, "op1", people.sup)
    assert desk.page_queue("unassigned", people.sup, search=parse_search("5678")).total == 1


def test_the_derived_column_follows_the_contact(desk, db):
    number = desk.create_case(new_case(contact={"phone": "+86 13812349876"}), BOT)[0]["number"]
    none = desk.create_case(new_case(contact={"name": "无电话"}), BOT)[0]["number"]
    with db.session() as s:
        assert s.query(Case).filter_by(number=number).one().contact_phone_last4 == "9876"
        assert s.query(Case).filter_by(number=none).one().contact_phone_last4 is None


def test_results_show_the_phone_masked_unless_the_viewer_may_see_it(desk, people):
    number = desk.create_case(new_case(contact={"name": "张三", "phone": "13812345678"}), BOT)[0]["number"]
    term = parse_search("13812345678")
    for viewer in (people.op1, people.op2, people.admin, BOT):
        (row,) = desk.page_queue("all", viewer, search=term).cases
        assert row["phone"] == "138****5678" and row["contact_masked"]
        assert "13812345678" not in repr(row)
    (row,) = desk.page_queue("all", people.sup, search=term).cases
    assert row["phone"] == "13812345678" and not row["contact_masked"]
    desk.assign(number, "op1", people.sup)
    assert desk.page_queue("all", people.op1, search=term).cases[0]["phone"] == "13812345678"
    assert desk.page_queue("all", people.op2, search=term).cases[0]["phone"] == "138****5678"
