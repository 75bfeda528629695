"""The account forms: allauth's, with Speaker's labels and messages, and the 2FA code
form that audits a lock-out."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.mfa.base.forms import AuthenticateForm
from django import forms

from accounts.services import mfa_lockout_record

PASSWORD_MISMATCH = "The two password fields didn’t match."


class SignUpForm(AllauthSignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email address"
        self.fields["password2"].label = "Password confirmation"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = self.errors.get("password2")
        if errors:  # Django's wording, the one the rest of the dashboard uses
            self.errors["password2"] = self.error_class(
                [PASSWORD_MISMATCH if "same password" in str(e) else e for e in errors]
            )
        return cleaned


class LoginForm(AllauthLoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"
        self.fields["login"].widget.attrs.update({"placeholder": "", "autocomplete": "username"})
        self.fields["password"].widget.attrs["placeholder"] = ""
        self.fields["password"].help_text = ""  # the reset link sits under the form
        if "remember" in self.fields:
            self.fields["remember"].label = "Remember me"


class MFAAuthenticateForm(AuthenticateForm):
    """allauth's second-factor form; when its failure limit locks the account's codes
    (allauth's `login_failed` rate limit, per user), the lock-out is audited."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except forms.ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                mfa_lockout_record(user=self.user)
            raise
