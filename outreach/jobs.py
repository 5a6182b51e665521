"""Running one reconciliation job over every working account, as beat and the commands do."""

import logging
from collections.abc import Callable

from integrations.services import working_accounts
from integrations.unipile import UnipileError

logger = logging.getLogger("outreach.sync")


def run_for_accounts(job: Callable, *, name: str, account_id: int | None = None, write=None) -> dict:
    """job(account=...) for each working account; a provider failure on one account does not stop the others."""
    accounts = working_accounts()
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    summary = {"accounts": 0, "failed": 0}
    for account in accounts:
        summary["accounts"] += 1
        try:
            counts = job(account=account)
        except (UnipileError, ValueError) as exc:
            summary["failed"] += 1
            line = f"{name} {account}: failed: {exc}"
        else:
            line = f"{name} {account}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
        logger.info(line)
        if write:
            write(line)
    return summary
