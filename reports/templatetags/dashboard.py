from django import template

from reports.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/reports/dashboard.html", takes_context=True)
def operator_dashboard(context):
    request = context["request"]
    return {"blocks": dashboard(request.user), "request": request}
