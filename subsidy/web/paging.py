"""A page of a list that is the union of disjoint querysets, cut in the database.

A verifier's queue is several conditions (the submitted cases nobody has taken, and their own
cases submitted, in review or in field verification), one status each. Asked as one
`A OR B … ORDER BY waiting LIMIT 20`, PostgreSQL reads and sorts every match, and the queue
grows with the programme. Asked as
`id IN ((A ORDER BY … LIMIT n) UNION ALL (B ORDER BY … LIMIT n)) ORDER BY … LIMIT 20`, each
part is one range of an ordered index and the page reads about n rows per part, whatever
the size of the queue (docs/benchmarks.md, "Officers' pages").

A filtered list is counted only so far (`count_limit`). Told which page will be asked for
(`expected`), the count and that page are one statement: the page's rows, each carrying
`COUNT(*) OVER ()` of the candidates, every part cut past the count's limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Count, Model, QuerySet, Value, Window

CANDIDATES = "paging_candidates"  # the annotation carrying the count of the candidates
PART = "paging_part"  # the annotation numbering the parts counted together


def part_counts(parts: Sequence[QuerySet], field: str, beyond: int) -> list[tuple[object, int]]:
    """Each part's value of `field` (a part's rows share one: a queue's part is one status) and
    its number of rows, counting no further than `beyond`: the same cost at any size. In the
    parts' order; an empty part's value is None. One statement where the database can cut the
    parts of a UNION; else one per part."""
    cut = [
        part.order_by().annotate(**{PART: Value(number)}).values(field, PART)[:beyond]
        for number, part in enumerate(parts)
    ]
    if len(cut) == 1 or not connection.features.supports_slicing_ordering_in_compound:
        counted = []
        for rows in cut:
            values = [row[field] for row in rows]
            counted.append((values[0] if values else None, len(values)))
        return counted
    # The ORM's UNION, counted per part: Django groups no compound statement (annotate() after
    # union() is refused). Its values stay parameters; the names are the model's, quoted.
    sql, params = cut[0].union(*cut[1:], all=True).query.sql_with_params()
    value, part = connection.ops.quote_name(field), connection.ops.quote_name(PART)
    counting = f"SELECT {part}, MIN({value}), COUNT(*) FROM ({sql}) AS parts GROUP BY {part}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(counting, params)
        found = {number: (shared, rows) for number, shared, rows in cursor.fetchall()}
    return [found.get(number, (None, 0)) for number in range(len(parts))]


class OrderedUnion:
    """Disjoint querysets of one model read as one list in `ordering`: what Django's Paginator
    needs (count and slices). Every part has the same filters applied by the caller."""

    def __init__(
        self,
        parts: Sequence[QuerySet],
        ordering: Sequence[str],
        related: Sequence[str] = (),
        count: int | None = None,
        only: Sequence[str] = (),
        count_limit: int | None = None,
        expected: slice | None = None,
    ) -> None:
        if not parts:
            raise ValueError("OrderedUnion needs at least one queryset")
        self.parts = [part.order_by() for part in parts]
        self.ordering = tuple(ordering)
        self.related = tuple(related)
        # The columns a page shows (with the related rows' columns as "company__name"): a row
        # read whole is some sixty columns, each converted and set on a model (all of them when
        # empty).
        self.only = tuple(only)
        self.model = parts[0].model
        self._count = count  # when the caller knows it already
        # Count no further than this: a wide filter's exact count reads every match, and grows
        # with the programme; a count that stops at the limit costs about the same at any size.
        self.count_limit = count_limit
        self.count_is_bounded = False  # True once the count stopped at count_limit + 1
        # The page the caller will ask for: counted with it, in one statement.
        self.expected = expected
        self._read: tuple[int, int, list[Model]] | None = None  # start, stop, rows: the count's

    def count(self) -> int:
        if self._count is None:
            if self.count_limit is None:
                self._count = sum(part.count() for part in self.parts)
            else:
                beyond = self.count_limit + 1
                if self.expected is not None:
                    self._count = self._page_and_count(self.expected, beyond)
                else:
                    self._count = self._bounded_count(beyond)
                self.count_is_bounded = self._count == beyond
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _bounded_count(self, beyond: int) -> int:
        """How many rows there are, counting no further than `beyond`."""
        found = 0
        for part in self.parts:
            found += part[: beyond - found].count()  # COUNT(*) of a LIMITed subquery
            if found >= beyond:
                break
        return min(found, beyond)

    def _page_and_count(self, window: slice, beyond: int) -> int:
        """Read the rows of `window` and return the count, no further than `beyond`: every part
        cut at `beyond` (and at the window's end), the page's rows annotated with the number of
        those candidates. A part cut at `beyond` alone makes `beyond` rows; else none was cut
        and the candidates are every row."""
        start, stop = window.start or 0, window.stop
        rows = self._window(start, stop, cut=max(stop, beyond), counted=True)
        if rows:
            found = getattr(rows[0], CANDIDATES)
        else:  # a page past the end: count apart
            found = self._bounded_count(beyond)
        self._read = (start, stop, rows)
        return min(found, beyond)

    def _ordered(self, rows: QuerySet) -> QuerySet:
        rows = rows.select_related(*self.related).order_by(*self.ordering)
        return rows.only(*self.only) if self.only else rows

    def _window(self, start: int, stop: int, cut: int, counted: bool = False) -> list[Model]:
        """The rows `start:stop` of the list, read from the first `cut` rows of each part."""
        if len(self.parts) == 1:
            candidates = self.parts[0].order_by(*self.ordering).values("pk")[:cut]
        elif connection.features.supports_slicing_ordering_in_compound:
            # The first `cut` rows of the union are among the first `cut` rows of its parts.
            cut_parts = [part.order_by(*self.ordering).values("pk")[:cut] for part in self.parts]
            candidates = cut_parts[0].union(*cut_parts[1:], all=True)
        else:
            # SQLite cannot order and cut the parts of a compound statement: one OR query.
            candidates = reduce(or_, self.parts).order_by(*self.ordering).values("pk")[:cut]
        rows = self._ordered(self.model._default_manager.filter(pk__in=candidates))
        if counted:
            rows = rows.annotate(**{CANDIDATES: Window(Count("*"))})
        return list(rows[start:stop])

    def __getitem__(self, window: slice) -> list[Model]:
        if not isinstance(window, slice) or window.step not in (None, 1):
            raise TypeError("OrderedUnion reads a page: a slice")
        start, stop = window.start or 0, window.stop
        if self._read is not None:
            read_start, read_stop, rows = self._read
            if start == read_start and stop is not None and stop <= read_stop:
                return rows[: stop - start]  # the page read with the count
        if len(self.parts) == 1:
            return list(self._ordered(self.parts[0])[start:stop])
        if stop is None:
            return list(self._ordered(reduce(or_, self.parts))[start:])
        return self._window(start, stop, cut=stop)
