"""Members of a client (not staff) log in at /login/ and see their own client only; the admin is not their door."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from integrations import mailer
from outreach.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client_org):
    user = get_user_model().objects.create_user("ann", email="ann@agency.io", password="a-long-pass-123")
    Membership.objects.create(user=user, client=client_org, role="viewer")
    return user


def test_a_member_logs_in_at_the_products_door_and_not_at_the_admins(client, member):
    admin_login = client.post(reverse("admin:login"), {"username": "ann", "password": "a-long-pass-123"})
    assert admin_login.status_code == 200  # refused: not staff
    response = client.post(reverse("login"), {"username": "ann", "password": "a-long-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")  # the client's home
    assert client.get(reverse("inbox:list")).status_code == 200
    assert client.get(reverse("reports:index")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302  # still not the admin


def test_a_member_sees_only_their_clients_reports(client, member, client_org):
    other = factories.ClientFactory(name="Bravo Corp")
    client.force_login(member)
    page = client.get(reverse("reports:index")).content.decode()
    assert client_org.name in page and "Bravo Corp" not in page
    assert client.get(reverse("reports:index"), {"client": other.pk}).status_code in (403, 404, 200)
    assert "Bravo Corp" not in client.get(reverse("reports:index"), {"client": other.pk}).content.decode()


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, member):
    wrong = client.post(reverse("login"), {"username": "ann", "password": "nope"}).content.decode()
    unknown = client.post(reverse("login"), {"username": "nobody-here", "password": "nope"}).content.decode()
    assert "Please enter a correct username and password" in wrong and "Please enter a correct" in unknown
    assert "ann" not in wrong.split("errors", 1)[-1].split("</div>", 1)[0]


def test_password_change_and_logout(client, member):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "a-long-pass-123",
            "new_password1": "another-long-pass-456",
            "new_password2": "another-long-pass-456",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("inbox:list")).status_code == 302
    assert client.post(reverse("login"), {"username": "ann", "password": "another-long-pass-456"}).status_code == 302


def test_password_reset_goes_through_the_mailer_to_public_base_url(client, member, settings, monkeypatch):
    settings.RESEND_API_KEY, settings.PUBLIC_BASE_URL = "re_test", "https://outreach.example"
    settings.EMAIL_BACKEND = "integrations.mailer.MailerEmailBackend"  # pytest-django swaps in locmem
    sent = []
    monkeypatch.setattr(mailer, "send_email", lambda **kwargs: sent.append(kwargs) or "email-1")
    for address in ("ann@agency.io", "nobody@agency.io"):
        response = client.post(reverse("password_reset"), {"email": address})
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(sent) == 1 and sent[0]["to"] == "ann@agency.io" and not mail.outbox
    link = next(line for line in sent[0]["text"].splitlines() if line.startswith("https://"))
    assert link.startswith("https://outreach.example/password/reset/")
    path = link.removeprefix("https://outreach.example")
    form = client.get(path, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-pass-789", "new_password2": "brand-new-pass-789"}
    )
    assert done.status_code == 302
    assert client.post(reverse("login"), {"username": "ann", "password": "brand-new-pass-789"}).status_code == 302
