"""Account pages: allauth's (sign-in, sign-up, email, password, two-factor under 2fa/),
with Speaker's sign-in and sign-up views in front of them."""

from allauth.account import views as allauth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views

login = views.LoginView.as_view()
signup = views.SignupView.as_view()

urlpatterns = [
    path("login/", login, name="account_login"),
    path("signup/", signup, name="account_signup"),
    path("invitations/", views.invitation_list, name="invitations"),
    # The addresses and names the dashboard used before allauth.
    path("login/", login, name="login"),
    path("signup/", signup, name="signup"),
    path("logout/", allauth_views.logout, name="logout"),
    path("password/", RedirectView.as_view(pattern_name="account_change_password"), name="password_change"),
    path("", include("allauth.urls")),
]
