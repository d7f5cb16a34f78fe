"""A page of a list that is the union of disjoint querysets, cut in the database.

A verifier's queue is two conditions (the submitted cases nobody has taken, and their own
cases in review or field verification). Asked as one `A OR B … ORDER BY waiting LIMIT 20`,
PostgreSQL reads and sorts every match, and the queue grows with the programme. Asked as
`id IN ((A ORDER BY … LIMIT n) UNION ALL (B ORDER BY … LIMIT n)) ORDER BY … LIMIT 20`, each
part is one range of an ordered index and the page reads about n rows per part, whatever
the size of the queue (docs/benchmarks.md, "Officers' pages").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Model, QuerySet


class OrderedUnion:
    """Disjoint querysets of one model read as one list in `ordering`: what Django's Paginator
    needs (count and slices). Every part has the same filters applied by the caller."""

    def __init__(
        self,
        parts: Sequence[QuerySet],
        ordering: Sequence[str],
        related: Sequence[str] = (),
        count: int | None = None,
        defer: Sequence[str] = (),
        count_limit: int | None = None,
    ) -> None:
        if not parts:
            raise ValueError("OrderedUnion needs at least one queryset")
        self.parts = [part.order_by() for part in parts]
        self.ordering = tuple(ordering)
        self.related = tuple(related)
        self.defer = tuple(defer)  # columns a page never shows (large JSON, say)
        self.model = parts[0].model
        self._count = count  # when the caller knows it already
        # Count no further than this: a wide filter's exact count reads every match, and grows
        # with the programme; a count that stops at the limit costs about the same at any size.
        self.count_limit = count_limit
        self.count_is_bounded = False  # True once the count stopped at count_limit + 1

    def count(self) -> int:
        if self._count is None:
            if self.count_limit is None:
                self._count = sum(part.count() for part in self.parts)
            else:
                beyond = self.count_limit + 1
                found = 0
                for part in self.parts:
                    found += part[: beyond - found].count()  # COUNT(*) of a LIMITed subquery
                    if found >= beyond:
                        break
                self._count = min(found, beyond)
                self.count_is_bounded = self._count == beyond
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _ordered(self, rows: QuerySet) -> QuerySet:
        return rows.select_related(*self.related).defer(*self.defer).order_by(*self.ordering)

    def __getitem__(self, window: slice) -> list[Model]:
        if not isinstance(window, slice) or window.step not in (None, 1):
            raise TypeError("OrderedUnion reads a page: a slice")
        start, stop = window.start or 0, window.stop
        if len(self.parts) == 1:
            return list(self._ordered(self.parts[0])[start:stop])
        if stop is None or not connection.features.supports_slicing_ordering_in_compound:
            # SQLite cannot order and cut the parts of a compound statement: one OR query.
            return list(self._ordered(reduce(or_, self.parts))[start:stop])
        # The first `stop` rows of the union are among the first `stop` rows of its parts.
        candidates = [part.order_by(*self.ordering).values("pk")[:stop] for part in self.parts]
        union = candidates[0].union(*candidates[1:], all=True)
        rows = self.model._default_manager.filter(pk__in=union)
        return list(self._ordered(rows)[start:stop])
