"""The project's URL patterns, walked once for the security tests."""

from django.urls import URLPattern, URLResolver


def walk(patterns, prefix="", namespace=""):
    """(pattern, namespaced name) for every URL pattern, through every include."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else ""
