#!/usr/bin/env python3
"""Push numbered toasts to a channel at a steady rate through the real package's send path
(WebSocketSession queryset send_message, as ../shared/realpeer/push.py does), for the
reconnect benchmark: one process for the whole run, since starting push.py per toast is
too slow.

    pusher.py --realpeer ../shared/realpeer --channel a --every 0.2 --duration 90

Each push is one JSON line on stdout: {"channel", "seq", "t" (unix seconds), "targets",
"delivered"}, or {"channel", "seq", "t", "error"} when the send path raised. Pushes keep to
the schedule start + (seq-1)*every; a late one goes out at once (none skipped). One channel
per process: boto3 clients (the package makes one per send) must not be created from two
threads at once. Needs the same environment as push.py (REALPEER_RUN, PEERS_SITE_PORT,
PEERS_MGMT_URL).
"""
import argparse
import json
import os
import sys
import time

try:
    import django
except ImportError:  # Debian's python3-django belongs to /usr/bin/python3
    if sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

parser = argparse.ArgumentParser(description="push numbered toasts at a steady rate")
parser.add_argument("--realpeer", required=True, help="the realpeer folder (holds push.py, site/, pkg/)")
parser.add_argument("--channel", required=True)
parser.add_argument("--every", type=float, default=0.2, help="seconds between pushes")
parser.add_argument("--duration", type=float, required=True, help="seconds to push for")
args = parser.parse_args()

# Django set up exactly as push.py does.
sys.path[:0] = [os.path.join(args.realpeer, "site"), os.environ.get("PKG_DIR", os.path.join(args.realpeer, "pkg"))]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peers_site.settings")
sys.dont_write_bytecode = True
django.setup()

from django_aws_api_gateway_websockets.models import WebSocketSession  # noqa: E402

start = time.time()
seq = 0
while True:
    seq += 1
    due = start + (seq - 1) * args.every
    if due - start >= args.duration:
        break
    time.sleep(max(0.0, due - time.time()))
    t = time.time()
    line = {"channel": args.channel, "seq": seq, "t": round(t, 3)}
    msg = {"type": "toast", "level": "info", "id": f"{args.channel}-{seq}", "seq": seq,
           "title": "bench", "message": f"toast {seq}"}
    try:
        sessions = WebSocketSession.objects.filter(channel_name=args.channel, connected=True)
        targets = list(sessions.values_list("connection_id", flat=True))
        results = sessions.send_message(msg)  # the package's code path
        line.update(targets=len(targets), delivered=len(results))
    except Exception as e:  # noqa: BLE001 - reported per push; the run goes on
        line["error"] = f"{type(e).__name__}: {e}"[:200]
    print(json.dumps(line), flush=True)
