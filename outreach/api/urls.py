"""/api/v1/: the resources, the OpenAPI schema and its two documentation pages (assets served locally)."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignViewSet
from campaigns.lead_api import LeadViewSet
from campaigns.source_api import LeadSourceViewSet
from inbox.api import ConversationViewSet, CountersView
from integrations.api import LinkedInAccountViewSet, RateUsageViewSet, WebhookEndpointViewSet
from leads.api import DoNotContactViewSet, EventViewSet
from outreach.views import not_found
from reports.api import (
    AccountHealthView,
    AccountUsageView,
    CampaignSummaryView,
    CampaignTimeseriesView,
    ClientSummaryView,
)

from .clients import ClientViewSet, MembershipViewSet


class Router(SimpleRouter):
    """Ids are digits; anything else under a resource is a 404 without reaching the view."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        return rf"(?P<{lookup_prefix}pk>[0-9]+)"


router = Router(trailing_slash=False)
router.register("clients", ClientViewSet, basename="client")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("linkedin-accounts", LinkedInAccountViewSet, basename="linkedin-account")
router.register("rate-usage", RateUsageViewSet, basename="rate-usage")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("leads", LeadViewSet, basename="lead")
router.register("lead-sources", LeadSourceViewSet, basename="lead-source")
router.register("do-not-contact", DoNotContactViewSet, basename="do-not-contact")
router.register("events", EventViewSet, basename="event")
router.register("inbox/conversations", ConversationViewSet, basename="conversation")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    path("inbox/counters", CountersView.as_view(), name="inbox-counters"),
    path("reports/campaigns/<str:pk>/summary", CampaignSummaryView.as_view(), name="report-campaign-summary"),
    path("reports/campaigns/<str:pk>/timeseries", CampaignTimeseriesView.as_view(), name="report-campaign-timeseries"),
    path("reports/accounts/<str:pk>/usage", AccountUsageView.as_view(), name="report-account-usage"),
    path("reports/clients/<str:pk>/summary", ClientSummaryView.as_view(), name="report-client-summary"),
    re_path(r"^linkedin-accounts/(?P<pk>[0-9]+)/health$", AccountHealthView.as_view(), name="linkedin-account-health"),
    path("", include(router.urls)),
    # Last: whatever no route above answers is the uniform JSON 404, with DEBUG on too (no HTML debug page).
    re_path(r"^.*$", csrf_exempt(not_found), name="not-found"),
]
