#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/) from the project's
testdata: the vendor doc examples (tests/testdata/doc_examples, core/src/vendors/*/testdata)
plus a few hand-written inputs. Run it after the testdata changes; the output is checked in.
Input formats are described at the top of each fuzz_targets/<target>.rs."""
import hashlib
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENDORS = ["avd", "kedacom", "vmr", "netease"]
STATUSES = [200, 200, 200, 201, 204, 400, 401, 403, 404, 429, 500, 502]  # fuzz/src/lib.rs
PER_TARGET = 60


def load(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return json.load(f)


def write(target, seeds):
    out = os.path.join(HERE, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    unique = {}
    for data in seeds:
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        unique.setdefault(hashlib.sha1(data).hexdigest()[:16], data)
    for name, data in list(unique.items())[:PER_TARGET]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def envelope_seeds(vendor):
    seeds = []
    for r in load("tests", "testdata", "doc_examples", f"{vendor}.json")["responses"]:
        status = r.get("http_status") or 200
        idx = STATUSES.index(status) if status in STATUSES else 0
        seeds.append(bytes([idx]) + f"{r['endpoint']}\n{r['raw']}".encode())
    for r in load("core", "src", "vendors", vendor, "testdata", "doc_examples.json"):
        seeds.append(b"\0" + f"{r['endpoint']}\n{r['body']}".encode())
    return seeds


def sse_seeds():
    seeds = [b"\x03: keep-alive\r\nid: 7\r\nretry: 3000\r\nevent: message\r\ndata: {}\r\n\r\n"]
    for e in load("core", "src", "vendors", "vmr", "testdata", "event_examples.json"):
        data = e["example"] if isinstance(e["example"], str) else json.dumps(e["example"])
        if e["example"] is None:
            data = ""
        lines = "".join(f"data: {line}\n" for line in data.split("\n")) if data else ""
        seeds.append(bytes([len(seeds) % 16]) + f"id: {len(seeds)}\nevent: {e['event']}\n{lines}\n".encode())
    return seeds


def webhook_seeds():
    seeds = []
    for i, c in enumerate(load("core", "src", "vendors", "netease", "testdata", "callback_examples.json")):
        flags = [1, 1 | 8, 0, 2][i % 4]
        seeds.append(bytes([flags]) + f"1234567{i % 10}\n\n{c['body']}".encode())
    seeds.append(b"\x01" + b"12345678\n1699999999000\n{\"msgType\":1,\"msgBody\":{}}")
    # Regression: a signed CurTime at the ends of i64 overflowed the age arithmetic before the fix.
    seeds.append(b"\x01" + b"12345678\n-9223372036854775808\n{}")
    return seeds


def params_seeds():
    seeds = []
    for vendor in VENDORS:
        for r in load("tests", "testdata", "doc_examples", f"{vendor}.json")["requests"]:
            if r.get("params") is not None:
                seeds.append(f"{vendor} {r['endpoint']}\n{json.dumps(r['params'], ensure_ascii=False)}")
    seeds.append("avd room.craete\n{}")
    return seeds


def config_seeds():
    return [
        '[avd]\nbase_url = "https://avd.example.com:9610"\naccess_key = "k"\nsecret_key = "s"\n',
        "[transport]\nrequest_timeout_secs = 20\nconnect_timeout_secs = 2.5\nmax_attempts = 3\n",
        "[transport]\nrequest_timeout_secs = nan\n",
        "[transport]\nconnect_timeout_secs = -1\n",
        'default_profile = "lab"\n[profiles.lab.avd]\nbase_url = "https://a"\naccess_key = "k"\nsecret_key = "s"\n'
        "[profiles.lab.transport]\nrequest_timeout_secs = 30\n",
        '[profiles.lab.kedacom]\nbase_url = "https://mcu"\naccount_token = "t"\nheartbeat_secs = 600\n'
        'expiry_codes = ["10002"]\ndelete_via_post = true\n',
        '[profiles.lab.vmr]\napi_server = "https://api"\nauth = "a"\naccount = "r@x"\npassword = "1"\n'
        'display_name = "m"\n[profiles.lab.vmr.pins]\n"board@x" = "4321"\n',
        '[profiles.lab.netease]\nbase_url = "https://n"\napp_key = "k"\napp_secret = "s"\n'
        'callback_listen = "0.0.0.0:8788"\ncallback_max_age_secs = 10800\n',
    ]


def c_json_seeds():
    profile = {"avd": {"base_url": "http://127.0.0.1:9", "access_key": "k", "secret_key": "s"},
               "transport": {"request_timeout_secs": 30}}
    seeds = [
        "client_new\n" + json.dumps(profile),
        'client_new\n{"transport": {"request_timeout_secs": 0}}',
        'client_options\n{"capture": "traffic.har"}',
        'client_options\n{"journal": "runs.db"}',
        'create_room avd\n{"name": "Weekly"}',
        'schedule netease\n{"name": "Weekly", "start": 1900000000, "minutes": 30}',
        'schedule kedacom\n{"name": "Weekly", "start": -1, "minutes": 1e300}',
        # Regression: NetEase's end time overflowed (start + minutes * 60000) before the fix.
        'schedule netease\n{"name": "x", "start": 1700000000, "minutes": 1e15, "host": "h"}',
        'script\n{"room_id": "weekly", "n": 5}',
        'sim_start\n{"avd": {"access_key": "k", "token_ttl_secs": 60, "invite_delay_ms": 300}}',
        'sim_start\n{"avd": {"token_ttl_secs": 0}}',
    ]
    for vendor in VENDORS:
        for r in load("tests", "testdata", "doc_examples", f"{vendor}.json")["requests"][:4]:
            if r.get("params") is not None:
                seeds.append(f"call {vendor} {r['endpoint']}\n{json.dumps(r['params'], ensure_ascii=False)}")
    return seeds


for v in VENDORS:
    write(f"envelope_{v}", envelope_seeds(v))
write("sse_vmr", sse_seeds())
write("webhook_netease", webhook_seeds())
write("params", params_seeds())
write("config", config_seeds())
write("c_json", c_json_seeds())
