"""Signals for later apps (code imports only leftwards: the inbox listens, the engine does not know it)."""

from django.dispatch import Signal

# Sent inside the transaction that records a sent action: sender=OutboundAction, action=, refs=, when=.
action_sent = Signal()
