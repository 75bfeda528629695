"""API pagination: `?page=N&page_size=M`, both checked.

DRF's page-number pagination ignores a `page_size` it cannot read and clamps one that is
too large, and reads a bad `page` as "not found". Here a `page_size` that is not an
integer from 1 to `max_page_size`, or a `page` that is not an integer from 1, is a 400
that says so; a page past the last is a 404 naming the last page. The schema declares
the same bounds (get_schema_operation_parameters)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework.pagination import PageNumberPagination as _Base

from core.errors import ApiError


def _positive_int(request: Any, name: str, *, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    bounds = f"from 1 to {maximum}" if maximum else "from 1"
    try:
        value = int(raw) if raw.strip().isdigit() else None
    except ValueError:
        value = None
    if value is None or value < 1 or (maximum is not None and value > maximum):
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise ApiError(
            f"{name} must be an integer {bounds}, not {shown!r}.",
            details={name: [f"An integer {bounds}."]},
        )
    return value


class PageNumberPagination(_Base):
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    def get_page_size(self, request: Any) -> int:
        size = _positive_int(request, self.page_size_query_param, maximum=self.max_page_size)
        return size if size is not None else self.page_size

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        page_size = self.get_page_size(request)
        number = _positive_int(request, self.page_query_param) or 1
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise ApiError(
                f"Page {number} is past the last page ({paginator.num_pages}) at page_size={page_size}.",
                code="not_found",
                status_code=404,
                details={"page": [f"At most {paginator.num_pages}."]},
            ) from None
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last answers 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, from 1 to {self.max_page_size} (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
