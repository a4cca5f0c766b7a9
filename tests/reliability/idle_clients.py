#!/usr/bin/env python3
"""Hostile idle clients against a broker, and what a normal client sees meanwhile (tests/reliability/idle.sh).

Opens ONE connections from one address (127.0.0.9) and MANY connections from as many other addresses
(127.1.x.y), keeps them open for SECONDS (a connection the broker drops is opened again: at once, after
100 ms when the broker refused it at once, after 1 s when it was closed after its answer), and meanwhile:
  - probes: a new client (127.0.0.1) asks for GET /v2/catalog on a new connection every 25 ms;
  - bursts: a platform (127.0.0.2) sends 64 requests at once, each on its own connection, twice.
Modes of the hostile connections:
  idle       connect and send nothing
  drip       send a request's first line, then one header byte per second, never ending the headers
  keepalive  send one whole request, read the answer, then keep the connection open and silent
Prints one JSON object with the figures.
"""
import base64
import json
import multiprocessing
import resource
import selectors
import socket
import sys
import threading
import time


def ask(port, request, src, out):
    """One request on a new connection from address src; appends (status, seconds) to out."""
    t0 = time.monotonic()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
        c.sendall((request + "Connection: close\r\n\r\n").encode())
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
        status = data[9:12].decode(errors="replace")
    except OSError as e:
        status = type(e).__name__
    out.append((status, time.monotonic() - t0))


def prober(pipe, port, request, stop, seconds):
    """A new client's catalog request every 25 ms, and two platform bursts of 64; sends the figures back."""
    lat, errors, bursts = [], [], []
    time.sleep(min(2.0, seconds / 4))  # let the hostile connections settle in
    n = 0
    while time.monotonic() < stop - 0.5:
        res = []
        ask(port, request, "127.0.0.1", res)
        status, took = res[0]
        lat.append(took)
        if status != "200":
            errors.append(status)
        n += 1
        if n in (40, 160):
            out = []
            threads = [threading.Thread(target=ask, args=(port, request, "127.0.0.2", out)) for _ in range(64)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            bursts.append({"ok": sum(1 for s, _ in out if s == "200"), "total": len(out),
                           "others": sorted(set(s for s, _ in out if s != "200")),
                           "slowest_ms": round(max(t for _, t in out) * 1000, 1)})
        time.sleep(0.025)
    pipe.send((lat, errors, bursts))
    pipe.close()


def main():
    port, one, many, mode, seconds, user, password = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                                     sys.argv[4], float(sys.argv[5]), sys.argv[6], sys.argv[7])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = one + many + 256
    if soft < need:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        print(json.dumps({"error": "cannot open %d files (limit %d)" % (need, hard)}))
        return 1
    auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    request = ("GET /v2/catalog HTTP/1.1\r\nHost: broker\r\nAuthorization: %s\r\n"
               "X-Broker-API-Version: 2.17\r\n" % auth)

    sel = selectors.DefaultSelector()
    conns = {}          # index -> [socket, opened_at, bytes_sent, next_drip, answered]
    later = []          # (when, index): reopen after a pause
    stats = {"opened": 0, "dropped": 0, "refused": 0, "answered": 0}

    def source(i):
        if i < one:
            return "127.0.0.9"
        j = i - one
        return "127.1.%d.%d" % (j // 250, j % 250 + 1)

    def open_conn(i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((source(i), 0))
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            later.append((time.monotonic() + 0.1, i))
            return
        now = time.monotonic()
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
        conns[i] = [s, now, 0, now + (i % 100) / 100.0, False]
        stats["opened"] += 1

    def close_conn(i, why):
        s = conns.pop(i)[0]
        sel.unregister(s)
        s.close()
        stats[why] += 1
        later.append((time.monotonic() + {"refused": 0.1, "answered": 1.0}.get(why, 0.0), i))

    open_samples = []
    stop = time.monotonic() + seconds
    # The probes run in a process of their own, started before any hostile socket exists: they must
    # not wait for this loop's interpreter lock, nor hold copies of its sockets.
    results, child_end = multiprocessing.Pipe(duplex=False)
    probe = multiprocessing.Process(target=prober, args=(child_end, port, request, stop, seconds))
    probe.start()
    child_end.close()

    for i in range(one + many):
        open_conn(i)
    last_sample = 0.0
    while time.monotonic() < stop:
        now = time.monotonic()
        for key, ev in sel.select(timeout=0.05):
            i = key.data
            c = conns.get(i)
            if c is None:
                continue
            s = c[0]
            if ev & selectors.EVENT_WRITE:
                sel.modify(s, selectors.EVENT_READ, i)
                try:
                    if mode == "keepalive":
                        s.send(("GET /health/live HTTP/1.1\r\nHost: broker\r\n\r\n").encode())
                    elif mode == "drip":
                        s.send(request.split("\r\n")[0].encode() + b"\r\nX-Drip: ")
                        c[2] = 1
                except OSError:
                    close_conn(i, "refused")
                    continue
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(65536)
                except OSError:
                    b = b""
                if not b:
                    # refused at once: retry after 100 ms; closed after its answer: open again after 1 s (an idle
                    # client, not a flood of requests); dropped while waiting: open again at once
                    close_conn(i, "answered" if c[4] else "refused" if now - c[1] < 0.1 else "dropped")
                else:
                    c[4] = True  # answered (keepalive); stays open and silent
        if mode == "drip":
            for i, c in list(conns.items()):
                if c[2] and now >= c[3]:
                    c[3] = now + 1.0
                    try:
                        c[0].send(b"z")
                    except OSError:
                        pass
        while later and later[0][0] <= now:
            _, i = later.pop(0)
            open_conn(i)
        later.sort()
        if now - last_sample >= 0.5:
            last_sample = now
            open_samples.append(len(conns))
    lat, errors, bursts = results.recv()
    probe.join()
    for c in list(conns.values()):
        c[0].close()
    lat.sort()
    n = len(lat)

    def pct(q):
        return round(lat[min(n - 1, int(n * q))] * 1000, 1) if n else None

    print(json.dumps({
        "mode": mode, "hostile": one + many, "probes": n, "errors": len(errors), "error_kinds": sorted(set(errors)),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1) if n else None,
        "bursts": bursts, "hostile_open_avg": round(sum(open_samples) / max(1, len(open_samples))),
        "hostile_open_min": min(open_samples) if open_samples else 0, **stats}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
