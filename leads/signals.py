"""Signals for later apps: leads says what happened to a lead; campaigns acts on its own queue."""

from django.dispatch import Signal

# Sent inside the transaction that stops a lead's sequence (a final status, a move to another campaign):
# sender=Lead, lead=, reason= (kept on what is cancelled), staff_replies_too= (False: a reply typed by staff
# still goes out after the person replied; True: the person must not be contacted at all).
lead_stopped = Signal()
