#!/usr/bin/env python3
"""Samples the local Worker's CPU through `wrangler dev`'s inspector and prints where the
time went: per function (JS and wasm, by name and line), its self time and its total time
(itself and what it called), top N of each. Standard library only.

    scripts/profile-edge.py <inspector port> <seconds> [top]

Run a load against the edge meanwhile, e.g. `BECKON_INSPECTOR_PORT=9339 BENCH_ONLY=hot make
bench` (the bench's edge then listens for the inspector on that port)."""
import base64, json, os, socket, struct, sys, time, urllib.request
from collections import Counter

def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    for _ in range(240):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            if targets:
                break
        except OSError:
            pass
        time.sleep(0.5)
    path = "/" + targets[0]["webSocketDebuggerUrl"].split("/", 3)[3]
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
              f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    buf = buf.split(b"\r\n\r\n", 1)[1]

    def send(obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        n = len(data)
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n)
        s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv_exact(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise EOFError
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    def recv():
        message = b""
        while True:
            b0, b1 = recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", recv_exact(8))[0]
            message += recv_exact(n)
            if b0 & 0x80:
                return json.loads(message)

    ids = iter(range(1, 1 << 30))
    def call(method, params=None):
        i = next(ids)
        send({"id": i, "method": method, "params": params or {}})
        while True:
            m = recv()
            if m.get("id") == i:
                return m.get("result", {})

    call("Profiler.enable")
    call("Profiler.setSamplingInterval", {"interval": 200})
    call("Profiler.start")
    time.sleep(seconds)
    profile = call("Profiler.stop")["profile"]
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}

    def label(node):
        f = node["callFrame"]
        name = f["functionName"] or "(anonymous)"
        if f.get("url"):
            name += f"  {f['url'].rsplit('/', 1)[-1]}:{f['lineNumber'] + 1}:{f['columnNumber'] + 1}"
        return name

    self_time, total_time = Counter(), Counter()
    for sample in profile["samples"]:
        self_time[label(nodes[sample])] += 1
        seen, node = set(), sample
        while node is not None:
            seen.add(label(nodes[node]))
            node = parent.get(node)
        seen.discard("(root)")
        total_time.update(seen)
    total = sum(self_time.values())
    for title, counts in (("self time", self_time), ("total time (self and callees)", total_time)):
        print(f"{total} samples over {seconds:.0f} s; {title}:")
        for name, c in counts.most_common(top):
            print(f"{100 * c / total:5.1f} %  {name}")

main()
