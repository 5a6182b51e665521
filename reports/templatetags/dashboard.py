from django import template

from reports.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/reports/dashboard.html", takes_context=True)
def operator_dashboard(context):
    request = context["request"]
    blocks = dashboard(request.user)
    to_reconnect = [account for block in blocks for account in block["to_reconnect"]]
    return {"blocks": blocks, "to_reconnect": to_reconnect, "request": request}
