"""`GET /api/v1/health`: the detailed health page of the versioned API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS
from ops import selectors
from ops.serializers import HealthDetailSerializer


class HealthDetailView(APIView):
    # Open to anonymous callers when API_KEY_REQUIRED is false (see HasScopes); any
    # valid key or session otherwise. No scope: it reads no other user's data.
    public_metadata = True

    @extend_schema(
        responses={200: HealthDetailSerializer, **{k: v for k, v in COMMON_ERRORS.items() if k != 400}},
        tags=["health"],
        summary="Host (CPU, memory, disk, GPU), engines, voices, queue and engine workers",
        description=(
            "GPU figures come from NVML when an NVIDIA GPU and driver are present; otherwise "
            '`gpu.status` is `"not available"` with the reason, never an error. Engines: as this '
            "process sees them, plus what each live engine worker reports (model load times)."
        ),
    )
    def get(self, request: Request) -> Response:
        # Staff see the whole platform; anyone else only their own share (no other
        # users' figures, no host names, PIDs or paths).
        return Response(selectors.health_detail(viewer=request.user))
