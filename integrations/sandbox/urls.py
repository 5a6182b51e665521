from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("users/invite", views.user_invite),
    path("users/invite/sent", views.sent_invitations),
    path("users/invite/sent/<str:invitation_id>", views.withdraw_invitation),
    path("users/relations", views.relations),
    path("users/<str:identifier>/posts", views.user_posts),
    path("users/<str:identifier>", views.user_profile),
    path("posts/reaction", views.post_reaction),
    path("linkedin/endorse", views.endorse),
    path("chats", views.chats),
    path("chats/<str:chat_id>/messages", views.chat_messages),
    path("messages", views.messages),
    path("accounts", views.accounts),
    path("accounts/<str:account_id>", views.account_detail),
    path("hosted/accounts/link", views.hosted_link),
    path("linkedin/inmail_balance", views.inmail_balance),
    path("linkedin/search", views.linkedin_search),
    path("posts/<str:post_id>/<str:kind>", views.post_engagers),
    path("webhooks", views.webhooks),
    path("webhooks/<str:webhook_id>", views.webhook_detail),
]
