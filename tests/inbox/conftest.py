from django.utils import timezone

from inbox.ingest import IncomingMessage


def incoming(
    account,
    *,
    message_id,
    text="Sounds good!",
    inbound=True,
    chat_id="chat-1",
    person="ACoAAPerson01",
    name="Ann Lee",
    when=None,
    slug="",
):
    return IncomingMessage(
        account=account,
        chat_id=chat_id,
        message_id=message_id,
        text=text,
        sent_at=when or timezone.now(),
        inbound=inbound,
        person_provider_id=person,
        person_public_identifier=slug,
        person_name=name,
    )
