from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.mailer import MailError, mailer_configured
from outreach.models import Client
from reports import emails
from reports.models import ReportDelivery


class Command(BaseCommand):
    help = "Send the weekly reports that are due (each client and week once). --dry-run says what would go out."

    def add_arguments(self, parser):
        parser.add_argument("--client", help="Only this client (its slug).")
        parser.add_argument("--week", help="The ISO week to report, like 2026-W47 (default: last week).")
        parser.add_argument("--dry-run", action="store_true", help="Send and store nothing.")

    def handle(self, *args, client=None, week=None, dry_run=False, **options):
        if week:
            try:
                emails.parse_week(week)
            except ValueError as exc:
                raise CommandError(f"--week: {exc}") from None
            week = week.upper()
        clients = Client.objects.filter(weekly_reports_enabled=True).order_by("name")
        if client:
            clients = Client.objects.filter(slug=client)
            if not clients.exists():
                raise CommandError(f"--client: no client with the slug {client!r}.")
        if not mailer_configured() and not dry_run:
            self.stdout.write("RESEND_API_KEY is not set: reports are stored (viewable in the admin), not sent.")
        now = timezone.now()
        for target in clients:
            target_week = week or emails.due_week(target, now)
            done = ReportDelivery.objects.filter(client=target, kind="weekly", period=target_week).first()
            if dry_run:
                recipients = emails.recipients_for(target, target.report_recipient_list)
                state = f"already {done.status}" if done else "would be sent"
                subject = emails.weekly_content(target, target_week).subject
                self.stdout.write(
                    f"{target.slug} {target_week}: {state} to {', '.join(recipients) or 'nobody'} — {subject}"
                )
                continue
            try:
                delivery = emails.deliver_weekly(target, target_week, now=now)
            except MailError as exc:
                self.stdout.write(self.style.WARNING(f"{target.slug} {target_week}: will retry ({exc})"))
                continue
            if delivery is None:
                state = done.status if done else "being sent by another worker"
                self.stdout.write(f"{target.slug} {target_week}: {state}, nothing to do")
            else:
                sent = len(delivery.sent_to)
                self.stdout.write(
                    f"{target.slug} {target_week}: {delivery.status} ({sent} of {len(delivery.recipients)} sent)"
                )
