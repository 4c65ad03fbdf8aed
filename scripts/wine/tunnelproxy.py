"""A test proxy for scripts/wine/proxy-test: every CONNECT tunnel leads to
127.0.0.1:TARGET_PORT whatever host was asked for; GET /proxy.pac serves a
PAC script that sends example.com to this proxy. Each request's method and
target go to LOG_FILE, its port to PORT_FILE.

usage: python3 tunnelproxy.py TARGET_PORT PORT_FILE LOG_FILE
"""
import asyncio
import sys

target_port, port_file, log_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]


async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    finally:
        w.close()


def answer(w, status, ctype=b"text/plain", body=b""):
    w.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


async def handle(r, w):
    head = await r.readuntil(b"\r\n\r\n")
    method, target = head.split(b" ")[:2]
    with open(log_file, "a") as f:
        f.write(method.decode() + " " + target.decode() + "\n")
    if method == b"GET" and target == b"/proxy.pac":
        me = "127.0.0.1:%d" % w.get_extra_info("sockname")[1]
        pac = ('function FindProxyForURL(url, host) {\n'
               '  if (host == "example.com") return "PROXY %s";\n'
               '  return "DIRECT";\n}\n' % me).encode()
        answer(w, b"200 OK", b"application/x-ns-proxy-autoconfig", pac)
    elif method == b"CONNECT":
        ur, uw = await asyncio.open_connection("127.0.0.1", target_port)
        w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(r, uw), pipe(ur, w))
        return
    else:
        answer(w, b"405 Method Not Allowed")
    await w.drain()
    w.close()


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(port_file, "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    await srv.serve_forever()


asyncio.run(main())
