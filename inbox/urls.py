from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("poll", views.poll, name="poll"),
    path("bulk-label", views.bulk_label, name="bulk-label"),
    path("<int:pk>/", views.conversation_detail, name="conversation"),
    path("<int:pk>/reply", views.reply, name="reply"),
    path("<int:pk>/<slug:action>", views.act, name="act"),
]
