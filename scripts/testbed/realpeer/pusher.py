#!/usr/bin/env python3
"""Push numbered toasts to channels at a steady rate through the real package's send path
(WebSocketSession queryset send_message, as ../shared/realpeer/push.py does), for the
reconnect benchmark: one process for the whole run, since starting push.py per toast is
too slow.

    pusher.py --channel a --channel b --every 0.2 --duration 90

Each channel gets its own thread, so a slow push to one does not delay the other. Each push
is one JSON line on stdout: {"channel", "seq", "t" (unix seconds), "targets", "delivered"}.
Pushes keep to the schedule start + seq*every; a late one goes out at once (none skipped).
Needs the same environment as push.py (REALPEER_RUN, PEERS_SITE_PORT, PEERS_MGMT_URL).
"""
import argparse
import json
import os
import sys
import threading
import time

try:
    import django
except ImportError:  # Debian's python3-django belongs to /usr/bin/python3
    if sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

parser = argparse.ArgumentParser(description="push numbered toasts at a steady rate")
parser.add_argument("--realpeer", required=True, help="the realpeer folder (holds push.py, site/, pkg/)")
parser.add_argument("--channel", action="append", required=True)
parser.add_argument("--every", type=float, default=0.2, help="seconds between pushes per channel")
parser.add_argument("--duration", type=float, required=True, help="seconds to push for")
args = parser.parse_args()

# Django set up exactly as push.py does.
sys.path[:0] = [os.path.join(args.realpeer, "site"), os.environ.get("PKG_DIR", os.path.join(args.realpeer, "pkg"))]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peers_site.settings")
sys.dont_write_bytecode = True
django.setup()

from django.db import connection  # noqa: E402
from django_aws_api_gateway_websockets.models import WebSocketSession  # noqa: E402

out = threading.Lock()


def push(channel, start):
    seq = 0
    try:
        while True:
            seq += 1
            due = start + (seq - 1) * args.every
            if due - start >= args.duration:
                return
            time.sleep(max(0.0, due - time.time()))
            t = time.time()
            sessions = WebSocketSession.objects.filter(channel_name=channel, connected=True)
            targets = list(sessions.values_list("connection_id", flat=True))
            msg = {"type": "toast", "level": "info", "id": f"{channel}-{seq}", "seq": seq,
                   "title": "bench", "message": f"toast {seq}"}
            results = sessions.send_message(msg)  # the package's code path
            with out:
                print(json.dumps({"channel": channel, "seq": seq, "t": round(t, 3),
                                  "targets": len(targets), "delivered": len(results)}), flush=True)
    finally:
        connection.close()


start = time.time()
threads = [threading.Thread(target=push, args=(ch, start)) for ch in args.channel]
for th in threads:
    th.start()
for th in threads:
    th.join()
