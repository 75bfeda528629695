"""Test-only URLconf: the real URLs plus an API view that crashes, to prove that a 500
keeps the error body and leaks nothing (a failing view is the thing no user would call)."""

from django.urls import include, path
from rest_framework.views import APIView


class Boom(APIView):
    permission_classes: list = []

    def get(self, request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals /etc/passwd")


def plain_boom(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("secret internals /etc/passwd")


urlpatterns = [
    path("api/v1/test-boom", Boom.as_view()),
    path("api/v1/test-plain-boom", plain_boom),
    path("", include("speaker_site.urls")),
]
