"""subsidy.web.paging.OrderedUnion: a page of disjoint parts, and its count bounded."""

import pytest

from subsidy.models import Application
from subsidy.web.paging import OrderedUnion
from tests.web.office_cases import placed_case

S = Application.Status
ORDERING = ("-status_changed_at", "-pk")


@pytest.fixture
def parts(programme):
    """Two disjoint parts, submitted (14 cases) and under review (5), their waiting times
    interleaved; a rejected case belongs to neither."""
    for days in range(20):
        status = S.UNDER_REVIEW if days % 4 == 1 else S.REJECTED if days % 7 == 6 else S.SUBMITTED
        placed_case(programme, status=status, days=days)
    return [
        Application.objects.filter(status=S.SUBMITTED),
        Application.objects.filter(status=S.UNDER_REVIEW),
    ]


def _expected(parts, window: slice) -> list[int]:
    everything = parts[0] | parts[1]
    return list(everything.order_by(*ORDERING).values_list("pk", flat=True))[window]


@pytest.mark.parametrize("count_limit", [3, 10, 18, 19, 40])
@pytest.mark.parametrize("window", [slice(0, 5), slice(5, 10), slice(15, 20), slice(30, 35)])
def test_the_count_read_with_its_page_is_the_count_read_apart(parts, count_limit, window):
    """Counted with the expected page (one statement) or apart, the count is the number of
    rows up to count_limit + 1, and the page is the same rows in the same order."""
    together = OrderedUnion(parts, ORDERING, count_limit=count_limit, expected=window)
    apart = OrderedUnion(parts, ORDERING, count_limit=count_limit)

    assert len(_expected(parts, slice(None))) == 19
    assert together.count() == apart.count() == min(19, count_limit + 1)
    assert together.count_is_bounded == apart.count_is_bounded == (count_limit < 19)
    page = [row.pk for row in together[window]]
    assert page == [row.pk for row in apart[window]] == _expected(parts, window)


def test_the_page_read_with_the_count_is_not_read_again(parts, django_assert_num_queries):
    everything = _expected(parts, slice(None))
    rows = OrderedUnion(parts, ORDERING, count_limit=10, expected=slice(0, 5))
    with django_assert_num_queries(1):
        assert rows.count() == 11
        assert [row.pk for row in rows[0:5]] == everything[0:5]
    # The last page, shorter than a page (Paginator asks up to the count): the same rows.
    last = OrderedUnion(parts, ORDERING, count_limit=20, expected=slice(15, 20))
    with django_assert_num_queries(1):
        assert last.count() == 19
        assert [row.pk for row in last[15:19]] == everything[15:19]
    # Another page than the one expected is read on its own.
    with django_assert_num_queries(1):
        assert [row.pk for row in last[5:10]] == everything[5:10]


def test_one_part_is_counted_with_its_page_too(parts):
    rows = OrderedUnion(parts[:1], ORDERING, count_limit=5, expected=slice(0, 5))
    assert rows.count() == 6 and rows.count_is_bounded
    assert [row.pk for row in rows[0:5]] == list(
        parts[0].order_by(*ORDERING).values_list("pk", flat=True)[:5]
    )


def test_each_part_is_counted_no_further_than_the_limit(parts, programme):
    """part_counts: each part's value and rows, up to `beyond`, in the parts' order."""
    from subsidy.web.paging import part_counts

    nothing = Application.objects.filter(status=S.APPROVED)
    counted = part_counts([parts[0], nothing, parts[1]], "status", 6)
    assert counted == [(S.SUBMITTED, 6), (None, 0), (S.UNDER_REVIEW, 5)]
    counted = part_counts([parts[0], parts[1]], "status", 100)
    assert counted == [(S.SUBMITTED, 14), (S.UNDER_REVIEW, 5)]
    assert part_counts([nothing], "status", 100) == [(None, 0)]
