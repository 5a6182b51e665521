import datetime as dt

from django import forms
from django.utils import timezone

from .services import MAX_REPLY_LENGTH


class ReplyForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Write a reply… (Ctrl+Enter sends)"}),
        max_length=MAX_REPLY_LENGTH,
    )
    send_now = forms.BooleanField(
        required=False,
        label="Send now, even outside working hours",
        help_text="Still inside the sender account's daily caps.",
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write something before sending.")
        return text


SNOOZE_PRESETS = {
    "1h": ("For an hour", lambda now: now + dt.timedelta(hours=1)),
    "tomorrow": (
        "Until tomorrow 9:00",
        lambda now: timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=1),
    ),
    "week": (
        "Until next Monday 9:00",
        lambda now: (
            timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0)
            + dt.timedelta(days=7 - timezone.localtime(now).weekday())
        ),
    ),
}


class SnoozeForm(forms.Form):
    preset = forms.ChoiceField(choices=[(k, v[0]) for k, v in SNOOZE_PRESETS.items()], required=False)
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), input_formats=["%Y-%m-%dT%H:%M"]
    )

    def clean(self):
        data = super().clean()
        now = timezone.now()
        if data.get("until"):
            until = data["until"]
        elif data.get("preset"):
            until = SNOOZE_PRESETS[data["preset"]][1](now)
        else:
            raise forms.ValidationError("Pick how long to snooze.")
        if until <= now:
            raise forms.ValidationError("Snooze until a time in the future.")
        data["until_resolved"] = until
        return data


class LinkLeadForm(forms.Form):
    lead = forms.IntegerField(min_value=1, label="Lead id")
