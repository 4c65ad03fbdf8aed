"""Stored toasts and catch-up for ToastTray clients of django-aws-api-gateway-websockets sites.

See docs/CATCHUP.md (the protocol) and docs/SITE-SETUP.md (installation) in the ToastTray repository.
"""

__version__ = "1.0.0"
