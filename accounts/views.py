"""Account pages: allauth's views with Speaker's rules (sign-in throttling, SIGNUP_MODE,
invitations), and the staff page that creates invitations."""

from __future__ import annotations

from typing import Any

from allauth.account import views as allauth_views
from django import forms
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import invitations
from accounts.models import Invitation
from accounts.services import login_blocked
from core.http import client_ip


class LoginView(allauth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if login_blocked(client_ip=client_ip(request)):
            form = self.get_form()
            response = self.render_to_response(self.get_context_data(form=form, blocked=True), status=429)
            response["Retry-After"] = "900"
            return response
        return super().post(request, *args, **kwargs)


class SignupView(allauth_views.SignupView):
    """Closed: no sign-up page at all (404). Invite: only with an invitation's link, whose
    token is kept in the session while the form is filled in and spent with the account."""

    template_name_signup_closed = "account/signup_closed.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if settings.SIGNUP_MODE == "closed":
            raise Http404("Sign-up is closed.")
        token = request.GET.get("invitation")
        if token is not None:
            if invitations.invitation_usable(token=token) is not None:
                request.session[invitations.SESSION_KEY] = token
            else:
                request.session.pop(invitations.SESSION_KEY, None)
                self.invalid_invitation = True
        return super().dispatch(request, *args, **kwargs)

    def closed(self) -> HttpResponse:
        context = {"invalid_invitation": getattr(self, "invalid_invitation", False)}
        return render(self.request, self.template_name_signup_closed, context, status=403)

    def _invitation(self) -> Invitation | None:
        return invitations.invitation_usable(token=self.request.session.get(invitations.SESSION_KEY))

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        invitation = self._invitation()
        if invitation is not None:
            initial["email"] = invitation.email
        return initial

    def form_valid(self, form: Any) -> HttpResponse:
        token = self.request.session.get(invitations.SESSION_KEY)
        invitation = self._invitation()
        if invitation is None and settings.SIGNUP_MODE == "invite":
            return self.closed()
        if invitation is not None and form.cleaned_data["email"].lower() != invitation.email:
            form.add_error("email", "Use the address the invitation was sent to.")
            return self.form_invalid(form)
        with transaction.atomic():
            response = super().form_valid(form)
            user = getattr(self, "user", None)
            if invitation is not None and user is not None and user.pk is not None:
                if invitations.invitation_accept(token=token, user=user) is None:
                    transaction.set_rollback(True)  # the link was spent by a racing sign-up
                    self.request.session.flush()
                    return self.closed()
                self.request.session.pop(invitations.SESSION_KEY, None)
        return response


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    monthly_character_quota = forms.IntegerField(
        label="Monthly character quota", min_value=0, required=False, help_text="Blank: the default quota."
    )
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=90, initial=7)


@staff_member_required
@require_http_methods(["GET", "POST"])
def invitation_list(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None, initial={"days": settings.INVITATION_DAYS})
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            created = invitations.invitation_create(
                request=request,
                email=form.cleaned_data["email"],
                created_by=request.user,
                monthly_character_quota=form.cleaned_data["monthly_character_quota"],
                days=form.cleaned_data["days"],
            )
            form = InvitationForm(initial={"days": settings.INVITATION_DAYS})
        else:
            status = 400
    return render(
        request,
        "accounts/invitations.html",
        {
            "form": form,
            "created": created,
            "invitations": Invitation.objects.select_related("accepted_by")[:50],
            "signup_mode": settings.SIGNUP_MODE,
        },
        status=status,
    )
