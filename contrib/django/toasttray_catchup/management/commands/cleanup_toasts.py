from django.core.management.base import BaseCommand

from toasttray_catchup.toasts import cleanup_expired


class Command(BaseCommand):
    help = "Delete stored toasts past their expiry (TOASTTRAY_CATCHUP_RETENTION). Run it daily from cron."

    def handle(self, *args, **options):
        self.stdout.write(f"deleted {cleanup_expired()} expired toasts")
