from django.conf import settings
from django.db import models
from django.utils import timezone

# Zero-padded to 20 digits (a BigAutoField has at most 19), so string order = numeric order.
ID_DIGITS = 20
MAX_ID = 2**63 - 1  # the largest BigAutoField value: a bigger `since` cannot be queried


def format_id(pk: int) -> str:
    """The wire form of a toast id (docs/CATCHUP.md)."""
    return str(pk).zfill(ID_DIGITS)


class StoredToast(models.Model):
    """A toast as sent by send_toast, kept until `expires` so a client can catch up on it."""

    LEVELS = ["success", "info", "warning", "error"]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stored_toasts",
        help_text="Empty: for every connection of the channel (a broadcast)",
    )
    channel_name = models.CharField(max_length=128, blank=True, default="")
    level = models.CharField(max_length=16, choices=[(lvl, lvl) for lvl in LEVELS], default="info")
    title = models.CharField(max_length=255, blank=True, default="")
    message = models.TextField()
    url = models.CharField(max_length=2048, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        # The catch-up query: one channel, ids after `since`, in id order.
        indexes = [models.Index(fields=["channel_name", "id"], name="toasttray_channel_id")]

    def __str__(self) -> str:
        return f"{format_id(self.pk)} {self.level}: {self.title or self.message[:40]}"

    @property
    def wire_id(self) -> str:
        return format_id(self.pk)

    def frame(self, catchup: bool = False) -> dict:
        """The toast frame pushed to clients; `catchup` marks one resent by the catchup handler."""
        data = {
            "type": "toast",
            "id": self.wire_id,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "url": self.url,
        }
        if catchup:
            data["catchup"] = True
        return data
