#!/usr/bin/env python3
"""The extra latency of a forwarded command (bench/cluster_scaling/run).

Places N orders on the node at LOCAL_PORT that wait for their 3-D Secure
confirmation (their sagas live there), then cancels them, alternating: one
through that node (served where the saga is) and one through the node at
OTHER_PORT (forwarded over the cluster link and answered back). One
keep-alive connection per node, so both sides pay the same client cost.
Prints p50/p90 of each and the difference at p50.
usage: forwarded.py LOCAL_PORT OTHER_PORT API_KEY [N]
"""
import http.client
import json
import sys
import time


def main():
    local, other, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    headers = {"Authorization": "Bearer " + key,
               "Content-Type": "application/json"}
    conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=30)
             for p in (local, other)}

    def call(port, method, path, body=None):
        c = conns[port]
        c.request(method, path, body=json.dumps(body) if body else None,
                  headers=headers)
        r = c.getresponse()
        return r.status, r.read()

    order = {"customer": {"id": "bench"},
             "items": [{"sku": "bench-sku", "quantity": 1}],
             "payment": {"token": "tok_3ds"}}
    ids = []
    for _ in range(n):
        status, body = call(local, "POST", "/v1/orders", order)
        if status != 202:
            sys.exit("order refused: %d %s" % (status, body))
        ids.append(json.loads(body)["id"])
    deadline = time.time() + 60
    for oid in ids:  # every saga waiting, so a cancel reaches a live saga
        while True:
            status, body = call(local, "GET", "/v1/orders/" + oid)
            if json.loads(body).get("status") == "waiting":
                break
            if time.time() > deadline:
                sys.exit("order %s never waited for 3-D Secure" % oid)
            time.sleep(0.01)
    times = {local: [], other: []}
    for i, oid in enumerate(ids):
        port = local if i % 2 == 0 else other
        t0 = time.perf_counter()
        status, body = call(port, "POST", "/v1/orders/%s/cancel" % oid)
        times[port].append((time.perf_counter() - t0) * 1000)
        if status != 202:
            sys.exit("cancel via %d: %d %s" % (port, status, body))

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    for name, port in (("local", local), ("forwarded", other)):
        print("cancel %-9s p50 %.2f ms  p90 %.2f ms  (%d)" % (
            name, pct(times[port], 0.5), pct(times[port], 0.9),
            len(times[port])))
    print("forwarding adds %.2f ms at p50" % (
        pct(times[other], 0.5) - pct(times[local], 0.5)))


if __name__ == "__main__":
    main()
