#!/usr/bin/env python3
"""What one request body costs the sidecar, by the body's shape.

    bench/body-memory.py [BINARY ...]     (default: target/release/burgee-sidecar)

For each binary (give the baseline too, e.g. a build of an older commit, to
compare them in one run): serve examples/flags.json, then for each shape send
one body of about 1 MiB (900 KB for the issue's reproduction) and read the
process's peak resident memory (VmHWM, reset before each body through
/proc/PID/clear_refs) above what it was resident before, and the CPU time the
answer took (utime + stime). Each shape is measured ROUNDS times, binaries
alternating; medians are printed. Needs Linux and permission to write
/proc/PID/clear_refs (root, or the same user).
"""
import json, os, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = 3
LIMIT = 1024 * 1024


def shapes():
    nested = ",".join(f'"x{i}": [[[[[[[[1]]]]]]]]' for i in range(34_000))
    wide = ",".join(["1"] * 500_000)
    keys = ",".join(f'"k{i}":1' for i in range(95_000))
    width = (LIMIT - 256) // 9_900 - 5
    allowed = ",".join(f'"{i:0>{width}}":1' for i in range(9_900))
    out = {
        "nested 8 deep (900 KB, the issue's body)": '{"context": {' + nested + "}}",
        "wide array": '{"context": {"x": [' + wide + "]}}",
        "many keys": '{"context": {' + keys + "}}",
        "long string": '{"context": {"targetingKey": "u", "s": "' + "x" * (LIMIT - 64) + '"}}',
        "9,900 keys (accepted)": '{"context": {' + allowed + "}}",
    }
    return {name: body.encode() for name, body in out.items() if len(body) <= LIMIT}


def field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    raise KeyError(name)


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def post(port, body):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /ofrep/v1/evaluate/flags/new-checkout HTTP/1.1\r\nHost: localhost:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    s.sendall(head.encode() + body)
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    s.close()
    return int(out[9:12])


def start(binary):
    p = subprocess.Popen(
        [binary, "serve", "--file", os.path.join(ROOT, "examples/flags.json"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = p.stdout.readline()
    port = int(line.rsplit(":", 1)[1])
    return p, port


def measure(binary, body):
    p, port = start(binary)
    try:
        time.sleep(0.3)
        with open(f"/proc/{p.pid}/clear_refs", "w") as f:
            f.write("5")
        idle = field(p.pid, "VmRSS:")
        before = cpu(p.pid)
        status = post(port, body)
        time.sleep(0.05)
        return status, field(p.pid, "VmHWM:") - idle, (cpu(p.pid) - before) * 1000
    finally:
        p.terminate()
        p.wait()


def main():
    binaries = sys.argv[1:] or [os.path.join(ROOT, "target/release/burgee-sidecar")]
    bodies = shapes()
    results = {(b, n): [] for b in binaries for n in bodies}
    for _ in range(ROUNDS):
        for name, body in bodies.items():
            for b in binaries:
                results[(b, name)].append(measure(b, body))
    print(f"one body per request, {ROUNDS} rounds, medians (peak resident memory above idle; CPU of the answer, in 10 ms clock ticks)")
    print("| body | " + " | ".join(os.path.relpath(b, ROOT) for b in binaries) + " |")
    print("| --- | " + " | ".join("---" for _ in binaries) + " |")
    for name, body in bodies.items():
        cells = []
        for b in binaries:
            rs = results[(b, name)]
            statuses = sorted({r[0] for r in rs})
            kib = statistics.median(r[1] for r in rs)
            ms = statistics.median(r[2] for r in rs)
            cells.append(f"{'/'.join(map(str, statuses))}, +{kib / 1024:.1f} MiB, {ms:.0f} ms CPU")
        print(f"| {name}, {len(body) // 1024} KiB | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
