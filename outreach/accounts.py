"""The members' door: log in, log out, change and reset a password, at the product's own pages (not the
admin's, which is for staff). Django's views, with the product's templates; reset emails go through the
mailer, and their links point at PUBLIC_BASE_URL, never at the Host header a request claims."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth
from django.shortcuts import render
from django.urls import path, reverse_lazy

from outreach.errors import API_PREFIX, error_response


def locked_out(request, response=None, credentials=None):
    """The answer to a locked-out login (axes), the same whether or not the username exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed attempts. Try again in {minutes} minutes, or reset your password."
    if request.path.startswith(API_PREFIX):
        answer = error_response(
            429, "locked_out", f"Too many failed attempts from this address; try again in {minutes} minutes."
        )
    else:
        answer = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    answer["Retry-After"] = str(minutes * 60)
    return answer


class PasswordResetView(auth.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self):
        base = urlsplit(settings.PUBLIC_BASE_URL)
        return {"domain": base.netloc, "protocol": base.scheme or "https"}


urlpatterns = [
    path("login/", auth.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
