"""The staff page for engines: what runs here, why XTTS does not, and "Install XTTS"
(docs/voice-cloning.md "Voice cloning"). The install runs in a thread of this process and reports to
the page over the websocket (`engine.install` events); the page also re-reads the
status, so a lost message never leaves it wrong."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from engine_setup.services import InstallError, xtts_install_start, xtts_status


@login_required
@require_http_methods(["GET", "POST"])
def engines(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404("No such page.")
    error = ""
    if request.method == "POST":
        if request.POST.get("accept_license") != "true":
            error = "Tick the box to accept the licence: the XTTS v2 weights are for non-commercial use only."
        else:
            try:
                xtts_install_start(actor=request.user)
            except InstallError as exc:
                error = str(exc)
            else:
                return redirect("engines")
    status = xtts_status()
    progress = status["progress"]
    # The install runs in a thread: by the time the page is read again it may have failed
    # already, and the event that said so went to a page that was not listening yet.
    failure = progress.get("error", "") if progress.get("phase") == "failed" and not status["installing"] else ""
    total = progress.get("total") or 0
    return render(
        request,
        "dashboard/engines.html",
        {
            "section": "engines",
            "status": status,
            "error": error,
            "failure": failure,
            # The licence was accepted for the attempt that failed: the box stays ticked.
            "accepted": bool(failure) or request.POST.get("accept_license") == "true",
            "progress_percent": round(100 * progress.get("done", 0) / total, 1) if total else 0,
        },
        status=400 if error else 200,
    )
