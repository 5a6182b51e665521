from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A fake Unipile served by Outreach itself (UNIPILE_SANDBOX=true): its own tables, its own API."""

    name = "integrations.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox provider"
