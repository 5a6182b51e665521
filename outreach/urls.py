from django.contrib import admin
from django.urls import include, path

from integrations.sandbox.views import follow as sandbox_follow
from integrations.sandbox.views import hosted_page as sandbox_hosted_page
from integrations.views import connect_done, hosted_auth_notify, unipile_webhook
from reports.webhooks import resend_webhook

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("outreach.accounts")),
    path("api/v1/", include("outreach.api.urls")),
    path("inbox/", include("inbox.urls")),
    path("reports/", include("reports.urls")),
    path("portal/", include("reports.portal_urls")),
    path("webhooks/unipile/<str:source>/", unipile_webhook, name="unipile-webhook"),
    path("webhooks/hosted-auth/", hosted_auth_notify, name="hosted-auth-notify"),
    path("connect/done/", connect_done, name="connect-done"),
    path("webhooks/resend/", resend_webhook, name="resend-webhook"),
    # Answers 404 unless UNIPILE_SANDBOX is on (checked per request, refused at start-up when DEBUG is off).
    path("sandbox/unipile/api/v1/", include("integrations.sandbox.urls")),
    path("sandbox/unipile/v2/<str:account_id>/users/me/follow/<str:user_id>", sandbox_follow),
    path("sandbox/unipile/hosted/<str:link_id>/", sandbox_hosted_page, name="sandbox-hosted-auth"),
]

# Under /api/ even Django's own 404 and 500 answer with the uniform JSON error body.
handler404 = "outreach.views.not_found"
handler500 = "outreach.views.server_error"
