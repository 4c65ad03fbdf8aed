from django.http import JsonResponse

from toasttray_catchup.toasts import catch_up


class CatchupMixin:
    """Adds the `catchup` handler to a site's WebSocketView subclass (put it first in the bases).

    The package dispatches only to handlers of the final class itself or listed in
    ADDITIONAL_ALLOWED_HANDLERS: a view that sets its own list must include "catchup" in it.
    """

    ADDITIONAL_ALLOWED_HANDLERS = ["catchup"]

    def catchup(self, request, *args, **kwargs):
        # The gateway drops this reply: everything the client sees is pushed by catch_up.
        catch_up(self.websocket_session, self.body.get("since", ""))
        return JsonResponse({"handled": "catchup"})
