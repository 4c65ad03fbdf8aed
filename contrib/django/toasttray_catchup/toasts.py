"""Storing, pushing and catching up on toasts (the protocol is docs/CATCHUP.md)."""
import json
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_aws_api_gateway_websockets.models import MAX_MESSAGE_SIZE, WebSocketSession

from toasttray_catchup.models import ID_DIGITS, MAX_ID, StoredToast, format_id

DEFAULT_RETENTION = timedelta(days=7)
DEFAULT_MAX = 200
LAZY_CLEANUP_EVERY = 60.0  # seconds between the cleanups send_toast runs in one process

_next_cleanup = 0.0


def retention() -> timedelta:
    """TOASTTRAY_CATCHUP_RETENTION: a timedelta or a number of seconds (default 7 days)."""
    value = getattr(settings, "TOASTTRAY_CATCHUP_RETENTION", DEFAULT_RETENTION)
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def max_backlog() -> int:
    """TOASTTRAY_CATCHUP_MAX: the most toasts one catchup request resends (default 200)."""
    return int(getattr(settings, "TOASTTRAY_CATCHUP_MAX", DEFAULT_MAX))


def send_toast(level, message, *, title="", url="", user=None, channel="default"):
    """Store a toast and push it to the connected sessions of `channel` (only `user`'s, or all
    of them when `user` is None) through the package's own send path.

    Returns the saved StoredToast; its `delivered` attribute is how many connections the gateway
    accepted it for. Inside a transaction the push waits for the commit (a rolled-back toast must
    never reach a client) and `delivered` stays None until then. Raises ValidationError for a bad
    level or field, ValueError for a toast over the gateway's 128 KB message limit.
    """
    now = timezone.now()
    toast = StoredToast(user=user, channel_name=channel, level=level, title=title, message=message,
                        url=url, created=now, expires=now + retention())
    toast.full_clean()
    # Check the biggest form this toast is ever sent in: the catch-up frame with a full-length id.
    size = len(json.dumps({**toast.frame(catchup=True), "id": "0" * ID_DIGITS}).encode("utf-8"))
    if size > MAX_MESSAGE_SIZE:
        raise ValueError(f"toast is {size} bytes as a frame, the gateway's limit is {MAX_MESSAGE_SIZE}")
    toast.delivered = None
    toast.save()
    transaction.on_commit(lambda: _push(toast))
    _lazy_cleanup()
    return toast


def _push(toast):
    sessions = WebSocketSession.objects.filter(channel_name=toast.channel_name)
    if toast.user_id is not None:
        sessions = sessions.filter(user_id=toast.user_id)
    # The queryset's send_message pushes to its connected sessions and marks gone ones disconnected.
    toast.delivered = len(sessions.send_message(toast.frame()))


def parse_since(value):
    """The id a client has seen up to, or None for "" and anything that is not a valid id."""
    if not isinstance(value, str) or not value.isdigit() or not value.isascii() or len(value) > ID_DIGITS:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def catch_up(session, since):
    """The catchup handler's work for one connection (docs/CATCHUP.md):

    1. mark the session connected again: the package's send_message marks a brand-new session
       disconnected when a push hits the gateway's 410 before the upgrade has finished, and the
       connection would stay deaf. This comes first so that any toast stored after the backlog
       query below finds the session connected and is pushed live: no gap between the two.
    2. push every unexpired toast for this user (and the channel's broadcasts) after `since`,
       oldest first, at most max_backlog(), marked "catchup": true, to this connection only;
    3. push the terminator {"type": "catchup", ...}.
    An empty or invalid `since` sends no backlog; the terminator's `last` is then the newest id.
    """
    session.connected = True
    session.save(update_fields=["connected"])

    mine = Q(channel_name=session.channel_name)
    mine &= (Q(user__isnull=True) | Q(user_id=session.user_id)) if session.user_id else Q(user__isnull=True)
    after = parse_since(since)
    backlog, more = [], False
    if after is None:
        last = StoredToast.objects.filter(mine).order_by("-pk").values_list("pk", flat=True).first() or 0
    else:
        last, limit = after, max_backlog()
        backlog = list(StoredToast.objects.filter(mine, pk__gt=after, expires__gt=timezone.now())
                       .order_by("pk")[:limit + 1])
        more = len(backlog) > limit
        del backlog[limit:]
        for toast in backlog:
            # None: a 410, the package marked the session disconnected; it catches up when back.
            if session.send_message(toast.frame(catchup=True)) is None:
                return
            last = toast.pk
    session.send_message({
        "type": "catchup",
        "since": "" if after is None else format_id(after),
        "last": format_id(last),
        "count": len(backlog),
        "more": more,
    })


def cleanup_expired() -> int:
    """Delete the toasts past their `expires`; returns how many."""
    return StoredToast.objects.filter(expires__lte=timezone.now()).delete()[0]


def _lazy_cleanup():
    """Deletes expired toasts at most every LAZY_CLEANUP_EVERY seconds per process, so a site
    without a cron job for cleanup_toasts still does not keep them for ever."""
    global _next_cleanup
    now = time.monotonic()
    if now >= _next_cleanup:
        _next_cleanup = now + LAZY_CLEANUP_EVERY
        cleanup_expired()
