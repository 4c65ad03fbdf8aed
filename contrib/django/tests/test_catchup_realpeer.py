"""toasttray_catchup against the real django-aws-api-gateway-websockets package (../shared/realpeer):
up.sh loads the app unchanged through the REALPEER_* variables, and real WebSocket clients sign
in, fetch tokens, connect through the gateway emulator and send `catchup` frames.

Run with Debian's python (python3-django, -boto3, -aiohttp, -websockets): `make django-test`, or
    cd contrib/django && /usr/bin/python3 -m unittest discover -s tests -v
Where ../shared/realpeer is absent the tests skip; with CI set they fail instead. The real peer
runs on free ports (or SITE_PORT, GW_PORT, MGMT_PORT) with its state in a temporary folder,
removed at the end unless TOASTTRAY_KEEP_REALPEER_RUN is set (its django.log and gateway.log).
"""
import asyncio
import contextlib
import http.cookiejar
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import django
import websockets

CONTRIB = Path(__file__).resolve().parents[1]  # contrib/django
REALPEER = CONTRIB.parents[1].parent / "shared" / "realpeer"  # ../shared/realpeer from the repository
RECV_TIMEOUT = 30  # seconds: a failure bound for one frame on a busy 2-core machine, not a wait
USERS = {"alice": "alice-pass", "user1": "user1-pass"}  # up.sh creates alice, EXTRA_USERS=1 user1

env = {}  # the variables up.sh, down.sh and this process's Django share


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    if not (REALPEER / "up.sh").is_file():
        msg = f"the real peer is absent ({REALPEER}): toasttray_catchup is not tested against the real package"
        if os.environ.get("CI"):
            raise RuntimeError(msg)
        raise unittest.SkipTest(msg)
    run = tempfile.mkdtemp(prefix="toasttray-catchup-")
    site, gw, mgmt = (os.environ.get(k) or str(free_port()) for k in ("SITE_PORT", "GW_PORT", "MGMT_PORT"))
    env.update({
        "REALPEER_RUN": run, "SITE_PORT": site, "GW_PORT": gw, "MGMT_PORT": mgmt, "EXTRA_USERS": "1",
        # Every test signs in and connects several times within a minute.
        "PEERS_TOKEN_RATE": "1000", "PEERS_CONNECT_RATE": "1000",
        "REALPEER_PYTHONPATH": str(CONTRIB), "REALPEER_APPS": "toasttray_catchup",
        "REALPEER_VIEW_MIXINS": "toasttray_catchup.views.CatchupMixin",
        "REALPEER_URLS": "toasttray_catchup.debug_urls", "TOASTTRAY_CATCHUP_DEBUG_ENDPOINT": "1",
        # What up.sh exports to the site, for this process's Django (same database, same gateway).
        "PEERS_DB": os.path.join(run, "db.sqlite3"), "PEERS_SITE_PORT": site,
        "PEERS_MGMT_URL": f"http://127.0.0.1:{mgmt}", "PYTHONDONTWRITEBYTECODE": "1",
    })
    unittest.addModuleCleanup(stop_realpeer)  # runs even when the rest of setUpModule fails
    up = subprocess.run([str(REALPEER / "up.sh")], env={**os.environ, **env}, capture_output=True, text=True)
    if up.returncode != 0:
        raise RuntimeError(f"up.sh failed:\n{up.stdout}{up.stderr}")
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "peers_site.settings"
    # The tests inspect and change the site's rows with the ORM between awaits, in one thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sys.path[:0] = [str(REALPEER / "site"), str(REALPEER / "pkg")]
    django.setup()


def stop_realpeer():
    subprocess.run([str(REALPEER / "down.sh")], env={**os.environ, **env}, capture_output=True)
    if os.environ.get("TOASTTRAY_KEEP_REALPEER_RUN"):
        print(f"realpeer state kept in {env['REALPEER_RUN']}", file=sys.stderr)
    else:
        shutil.rmtree(env["REALPEER_RUN"], ignore_errors=True)


def site_url(path="/") -> str:
    return f"http://127.0.0.1:{env['SITE_PORT']}{path}"


def post_json(path, body):
    """POST JSON to the site; returns (status, decoded JSON)."""
    req = urllib.request.Request(site_url(path), data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=RECV_TIMEOUT) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def send_toast(message, user="alice", channel="default", **fields):
    """Through the debug endpoint, as the Go tests do; returns its answer {"id", "delivered"}."""
    status, body = post_json("/_toasttray/send-toast/", {"message": message, "user": user, "channel": channel, **fields})
    if status != 200:
        raise AssertionError(f"send-toast answered {status}: {body}")
    return body


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(username):
    """The package's rules (realpeer README): login, then the cookie jar holds sessionid + csrftoken."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    login = site_url("/accounts/login/")
    opener.open(login, timeout=RECV_TIMEOUT).read()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": cookie(jar, "csrftoken"), "username": username,
                                   "password": USERS[username]}).encode()
    try:
        opener.open(urllib.request.Request(login, data=form, headers={"Referer": login}), timeout=RECV_TIMEOUT)
        raise AssertionError(f"login of {username} did not redirect")
    except urllib.error.HTTPError as err:
        if err.code != 302:
            raise
    return opener, jar


def cookie(jar, name):
    return next(c.value for c in jar if c.name == name)


@contextlib.asynccontextmanager
async def connect(username="alice", channel="default"):
    """A signed-in WebSocket connection through the gateway, with a fresh single-use token."""
    opener, jar = sign_in(username)
    req = urllib.request.Request(site_url("/api/ws-token/"), data=b"", method="POST", headers={
        "X-CSRFToken": cookie(jar, "csrftoken"), "Origin": site_url(""),
        "Referer": site_url()})
    token = json.load(opener.open(req, timeout=RECV_TIMEOUT))["token"]
    url = f"ws://127.0.0.1:{env['GW_PORT']}/?" + urllib.parse.urlencode({"ws_token": token, "channel": channel})
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    async with websockets.connect(url, origin=site_url(""), extra_headers={"Cookie": cookies},
                                  user_agent_header="toasttray-catchup-test", open_timeout=RECV_TIMEOUT) as ws:
        yield ws


async def recv(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))


async def catchup(ws, since):
    """Send a catchup frame; returns (the frames before the terminator, the terminator)."""
    await ws.send(json.dumps({"action": "$default", "handler": "catchup", "since": since}))
    frames = []
    while True:
        frame = await recv(ws)
        if frame.get("type") == "catchup":
            return frames, frame
        frames.append(frame)


ZERO = "0" * 20


class CatchupTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        # The tests block the loop on purpose (urllib, the ORM); do not log that as slow callbacks.
        asyncio.get_running_loop().slow_callback_duration = RECV_TIMEOUT

    def stored(self, wire_id):
        from toasttray_catchup.models import StoredToast
        return StoredToast.objects.get(pk=int(wire_id))

    async def test_backlog_order_filter_and_terminator(self):
        async with connect(channel="order") as ws:
            frames, end = await catchup(ws, "")
        self.assertEqual(frames, [])
        self.assertEqual(end, {"type": "catchup", "since": "", "last": ZERO, "count": 0, "more": False})

        # While alice is away: hers, another user's, a broadcast, another channel's, hers again.
        t1 = send_toast("one", level="success", title="First", url="https://example.com/1", channel="order")
        send_toast("not for alice", user="user1", channel="order")
        b1 = send_toast("everyone", user=None, level="warning", channel="order")
        send_toast("other channel", channel="elsewhere")
        t2 = send_toast("two", level="error", channel="order")
        self.assertEqual(t1["delivered"], 0)
        self.assertTrue(ZERO < t1["id"] < b1["id"] < t2["id"] and len(t2["id"]) == 20, (t1, b1, t2))

        async with connect(channel="order") as ws:
            frames, end = await catchup(ws, end["last"])
            self.assertEqual(frames, [
                {"type": "toast", "id": t1["id"], "level": "success", "title": "First", "message": "one",
                 "url": "https://example.com/1", "catchup": True},
                {"type": "toast", "id": b1["id"], "level": "warning", "title": "", "message": "everyone",
                 "url": "", "catchup": True},
                {"type": "toast", "id": t2["id"], "level": "error", "title": "", "message": "two",
                 "url": "", "catchup": True},
            ])
            self.assertEqual(end, {"type": "catchup", "since": ZERO, "last": t2["id"], "count": 3, "more": False})

            # A live toast carries its id and no catchup mark.
            t3 = send_toast("live", channel="order")
            self.assertEqual(t3["delivered"], 1)
            self.assertEqual(await recv(ws), {"type": "toast", "id": t3["id"], "level": "info", "title": "",
                                              "message": "live", "url": ""})

            # An empty (or invalid) since: no backlog, and `last` says where the client is now.
            for since in ["", "12x", "1" * 21, str(2**63)]:
                frames, end = await catchup(ws, since)
                self.assertEqual((frames, end), ([], {"type": "catchup", "since": "", "last": t3["id"],
                                                      "count": 0, "more": False}), since)
            # Nothing after the newest id; a short id compares as a number.
            self.assertEqual(await catchup(ws, t3["id"]), ([], {"type": "catchup", "since": t3["id"],
                                                               "last": t3["id"], "count": 0, "more": False}))
            frames, end = await catchup(ws, str(int(t2["id"])))
            self.assertEqual([f["id"] for f in frames], [t3["id"]])
            self.assertEqual((end["since"], end["last"], end["count"]), (t2["id"], t3["id"], 1))

    async def test_backlog_goes_to_the_asking_connection_only(self):
        async with connect(channel="two") as a, connect(channel="two") as b:
            _, end = await catchup(a, "")
            t1 = send_toast("to both", channel="two")
            self.assertEqual(t1["delivered"], 2)
            self.assertEqual((await recv(a))["id"], t1["id"])
            self.assertEqual((await recv(b))["id"], t1["id"])

            frames, _ = await catchup(a, end["last"])
            self.assertEqual([(f["id"], f["catchup"]) for f in frames], [(t1["id"], True)])
            # The backlog was pushed before a's terminator; b's pong comes after it, so a backlog
            # frame pushed to b would arrive before the pong.
            await b.send(json.dumps({"action": "$default", "handler": "ping", "ts": 7}))
            self.assertEqual(await recv(b), {"type": "pong", "ts": 7})

    async def test_catchup_repairs_a_session_marked_disconnected(self):
        from django_aws_api_gateway_websockets.models import WebSocketSession

        async with connect(channel="deaf") as ws:
            _, end = await catchup(ws, "")
            # What the package's send_message does after a 410 during the $connect race
            # (PROTOCOL.md §5): the connection is up but deaf.
            session = WebSocketSession.objects.get(channel_name="deaf", connected=True)
            session.connected = False
            session.save()
            missed = send_toast("missed", channel="deaf")
            self.assertEqual(missed["delivered"], 0)

            frames, end = await catchup(ws, end["last"])
            self.assertEqual([f["id"] for f in frames], [missed["id"]])
            self.assertEqual(end["last"], missed["id"])
            session.refresh_from_db()
            self.assertTrue(session.connected)
            live = send_toast("heard", channel="deaf")
            self.assertEqual(live["delivered"], 1)
            self.assertEqual((await recv(ws))["id"], live["id"])

    async def test_expired_toasts_are_not_resent_and_cleaned_up(self):
        from django.core.management import call_command
        from django.utils import timezone

        from toasttray_catchup.models import StoredToast

        async with connect(channel="exp") as ws:
            _, end = await catchup(ws, "")
        old, new = send_toast("old", channel="exp"), send_toast("new", channel="exp")
        self.assertEqual(self.stored(new["id"]).expires - self.stored(new["id"]).created, timedelta(days=7))
        StoredToast.objects.filter(pk=int(old["id"])).update(expires=timezone.now() - timedelta(seconds=1))

        async with connect(channel="exp") as ws:
            frames, term = await catchup(ws, end["last"])
        self.assertEqual([f["id"] for f in frames], [new["id"]])
        self.assertEqual(term["count"], 1)

        out = io.StringIO()
        call_command("cleanup_toasts", stdout=out)
        self.assertIn("deleted", out.getvalue())
        self.assertFalse(StoredToast.objects.filter(pk=int(old["id"])).exists())
        self.assertTrue(StoredToast.objects.filter(pk=int(new["id"])).exists())

    def test_send_toast_cleans_up_lazily_once_a_minute(self):
        from django.utils import timezone

        from toasttray_catchup import toasts
        from toasttray_catchup.models import StoredToast

        def expired():
            return toasts.send_toast("info", "soon gone", channel="lazy").pk

        first = expired()
        StoredToast.objects.filter(pk=first).update(expires=timezone.now())
        toasts._next_cleanup = 0.0  # this process has not cleaned up yet
        expired()
        self.assertFalse(StoredToast.objects.filter(pk=first).exists())
        second = expired()
        StoredToast.objects.filter(pk=second).update(expires=timezone.now())
        expired()  # within the minute: no second cleanup
        self.assertTrue(StoredToast.objects.filter(pk=second).exists())

    async def test_a_rolled_back_toast_is_never_pushed(self):
        from django.db import transaction

        from toasttray_catchup.toasts import send_toast as send_in_process

        async with connect(channel="tx") as ws:
            await catchup(ws, "")
            with self.assertRaises(RuntimeError), transaction.atomic():
                send_in_process("info", "rolled back", user=None, channel="tx")
                raise RuntimeError("roll back")
            kept = send_in_process("info", "kept", user=None, channel="tx")
            self.assertEqual(kept.delivered, 1)
            self.assertEqual(await recv(ws), kept.frame())

    async def test_backlog_cap_and_more(self):
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from toasttray_catchup.models import StoredToast
        from toasttray_catchup.toasts import DEFAULT_MAX

        async with connect(channel="cap") as ws:
            _, end = await catchup(ws, "")
            alice, now = get_user_model().objects.get(username="alice"), timezone.now()
            StoredToast.objects.bulk_create(
                StoredToast(user=alice, channel_name="cap", message=f"n{i}", created=now, expires=now + timedelta(days=1))
                for i in range(DEFAULT_MAX + 1))
            frames, first = await catchup(ws, end["last"])
            self.assertEqual([f["message"] for f in frames], [f"n{i}" for i in range(DEFAULT_MAX)])
            self.assertEqual((first["count"], first["more"], first["last"]), (DEFAULT_MAX, True, frames[-1]["id"]))
            frames, second = await catchup(ws, first["last"])
            self.assertEqual([f["message"] for f in frames], [f"n{DEFAULT_MAX}"])
            self.assertEqual((second["count"], second["more"]), (1, False))

    def test_debug_endpoint_rejects_bad_input(self):
        for body, error in [({"message": "x", "level": "fatal"}, "level"),
                            ({"message": "x", "user": "nobody"}, "no such user"),
                            ({"message": ""}, "message"),
                            ({"message": "x" * 140_000}, "limit")]:
            status, answer = post_json("/_toasttray/send-toast/", body)
            self.assertEqual(status, 400, body)
            self.assertIn(error, answer["error"])


if __name__ == "__main__":
    unittest.main()
