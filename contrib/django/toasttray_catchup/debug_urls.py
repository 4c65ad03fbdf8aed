"""POST /_toasttray/send-toast/: send_toast over HTTP, for test sites only (docs/SITE-SETUP.md).

Mount this URLconf only on a test site. Even then the view answers 404 unless settings.DEBUG,
the setting TOASTTRAY_CATCHUP_DEBUG_ENDPOINT or the environment variable of the same name
("1"; for test sites whose settings you cannot change) is on, and 403 unless the request
comes from the loopback interface. It takes no authentication and no CSRF token.
"""
import ipaddress
import json
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from toasttray_catchup.toasts import send_toast


def _enabled() -> bool:
    return (settings.DEBUG or getattr(settings, "TOASTTRAY_CATCHUP_DEBUG_ENDPOINT", False)
            or os.environ.get("TOASTTRAY_CATCHUP_DEBUG_ENDPOINT") == "1")


@csrf_exempt
@require_POST
def send_toast_view(request):
    """JSON in: {"message", "level"?, "title"?, "url"?, "user"? (username; absent or null: a
    broadcast), "channel"?}; out: {"id", "delivered"} or 400 {"error"}."""
    if not _enabled():
        raise Http404
    if not ipaddress.ip_address(request.META.get("REMOTE_ADDR", "0.0.0.0")).is_loopback:
        return JsonResponse({"error": "loopback only"}, status=403)
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        user = None
        if body.get("user") is not None:
            user = get_user_model().objects.get_by_natural_key(body["user"])
        toast = send_toast(body.get("level", "info"), body.get("message", ""), title=body.get("title", ""),
                           url=body.get("url", ""), user=user, channel=body.get("channel", "default"))
    except get_user_model().DoesNotExist:
        return JsonResponse({"error": "no such user"}, status=400)
    except (ValueError, ValidationError) as exc:  # json.JSONDecodeError is a ValueError
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"id": toast.wire_id, "delivered": toast.delivered})


urlpatterns = [path("_toasttray/send-toast/", send_toast_view, name="toasttray_send_toast")]
