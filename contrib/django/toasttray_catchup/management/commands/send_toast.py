from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from toasttray_catchup.models import StoredToast
from toasttray_catchup.toasts import send_toast


class Command(BaseCommand):
    help = "Store a toast and push it to the connected clients (e.g. to check a ToastTray set-up)."

    def add_arguments(self, parser):
        parser.add_argument("message")
        parser.add_argument("--level", default="info", choices=StoredToast.LEVELS)
        parser.add_argument("--title", default="")
        parser.add_argument("--url", default="")
        parser.add_argument("--user", help="username (default: every connection of the channel)")
        parser.add_argument("--channel", default="default")

    def handle(self, *args, message, level, title, url, user, channel, **options):
        try:
            if user is not None:
                user = get_user_model().objects.get_by_natural_key(user)
            toast = send_toast(level, message, title=title, url=url, user=user, channel=channel)
        except get_user_model().DoesNotExist:
            raise CommandError("no such user")
        except (ValueError, ValidationError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"toast {toast.wire_id} delivered to {toast.delivered} connections")
