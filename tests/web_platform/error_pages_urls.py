"""Test-only URLconf: the real URLs plus pages that fail the ways a page can (a failing
view is the thing no user would call), to prove what the error pages show."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import include, path

from speaker_site.urls import handler400, handler403, handler404, handler500  # noqa: F401 (read by Django)


def forbidden(request):  # type: ignore[no-untyped-def]
    raise PermissionDenied("secret reason /etc/passwd")


def suspicious(request):  # type: ignore[no-untyped-def]
    raise SuspiciousOperation("secret internals /etc/passwd")


def crash(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("secret internals /etc/passwd")


urlpatterns = [
    path("test-forbidden/", forbidden),
    path("test-suspicious/", suspicious),
    path("test-crash/", crash),
    path("", include("speaker_site.urls")),
]
