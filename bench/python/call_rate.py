"""Signed NetEase ``meeting.list`` calls per second from Python: meetkit, requests or httpx.

    python bench/python/call_rate.py --profile profile.json --client meetkit --threads 16 --calls 3000

Prints one JSON line ``{"client", "threads", "calls", "calls_per_sec"}``. Every client sends
the same request (POST /v2/meeting/list, the four signature headers, ``{}``) and checks the
answer's ``code``; requests and httpx sign by hand exactly as the NetEase doc says
(CheckSum = sha1(AppSecret + Nonce + CurTime)). Run by meetkit-bench (bench/run.sh).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict


_NONCES = itertools.count()


def signed_headers(app_key: str, app_secret: str) -> Dict[str, str]:
    # Never reused within a run: the strict simulator refuses a replayed Nonce.
    nonce = f"{os.getpid() & 0xFFFF:04x}{next(_NONCES):012d}"
    cur = str(int(time.time()))
    checksum = hashlib.sha1(f"{app_secret}{nonce}{cur}".encode()).hexdigest()
    return {"AppKey": app_key, "Nonce": nonce, "CurTime": cur, "CheckSum": checksum}


def make_call(kind: str, profile: Dict[str, Any]) -> Callable[[], None]:
    """A function making one call, safe to use from many threads."""
    ne = profile["netease"]
    url = ne["base_url"] + "/v2/meeting/list"
    key, secret = ne["app_key"], ne["app_secret"]
    if kind == "meetkit":
        import meetkit

        client = meetkit.Client(profile_dict={"netease": ne})

        def call() -> None:
            client.call("netease", "meeting.list", {})

        return call
    if kind == "requests":
        import requests

        local = threading.local()  # a Session per thread: Session is not thread-safe

        def call() -> None:
            s = getattr(local, "session", None)
            if s is None:
                s = local.session = requests.Session()
            r = s.post(url, headers=signed_headers(key, secret), json={})
            if r.json()["code"] != 200:
                raise RuntimeError(r.text)

        return call
    if kind == "httpx":
        import httpx

        shared = httpx.Client(limits=httpx.Limits(max_connections=64))  # thread-safe

        def call() -> None:
            r = shared.post(url, headers=signed_headers(key, secret), json={})
            if r.json()["code"] != 200:
                raise RuntimeError(r.text)

        return call
    raise SystemExit(f"unknown --client {kind!r}: use meetkit, requests or httpx")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True, help="profile JSON (the line `meetkit sim` prints)")
    ap.add_argument("--client", required=True, choices=["meetkit", "requests", "httpx"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    with open(args.profile) as f:
        profile = json.load(f)
    call = make_call(args.client, profile)
    for _ in range(20):  # warm-up: connections, imports
        call()
    per_thread = max(1, args.calls // args.threads)

    def worker() -> None:
        for _ in range(per_thread):
            call()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for f in [pool.submit(worker) for _ in range(args.threads)]:
            f.result()
    took = time.perf_counter() - started
    total = per_thread * args.threads
    print(json.dumps({"client": args.client, "threads": args.threads, "calls": total, "calls_per_sec": total / took}))


if __name__ == "__main__":
    main()
