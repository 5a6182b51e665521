"""Whose name people read: the agency's brand (one row, admin → Agency brand), with a client's own overrides.

One resolver for the login page, the pages, the portal and every email, so "by Outreach" appears only where the
agency asks for it."""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import Brand


@dataclass(frozen=True)
class ResolvedBrand:
    name: str
    logo_url: str
    colour: str
    sender_name: str
    powered_by: bool

    def from_address(self) -> str:
        """REPORTS_FROM_EMAIL's address under the brand's sender name."""
        _, address = parseaddr(settings.REPORTS_FROM_EMAIL)
        return formataddr((self.sender_name, address or settings.REPORTS_FROM_EMAIL))


def brand_for(client=None) -> ResolvedBrand:
    brand = Brand.load()
    name = (client.brand_name if client is not None and client.brand_name else "") or brand.name
    return ResolvedBrand(
        name=name,
        logo_url=(client.brand_logo_url if client is not None and client.brand_logo_url else "") or brand.logo_url,
        colour=(client.brand_colour if client is not None and client.brand_colour else "") or brand.colour,
        sender_name=brand.sender_name or name,
        powered_by=brand.show_powered_by,
    )


def _brand_of(request) -> ResolvedBrand:
    client = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not user.is_staff:
        from .tenancy import clients_for

        mine = list(clients_for(user)[:2])
        client = mine[0] if len(mine) == 1 else None
    return brand_for(client)


def brand_context(request):
    """Templates' `brand`: the agency's, or the client's own when the user belongs to exactly one client. Read
    only by the templates that show it."""
    return {"brand": SimpleLazyObject(lambda: _brand_of(request))}
