#!/usr/bin/env python3
"""Side-by-side latency of the header modes on Envoy and nginx (docs/hosts.md, nginx, "Cost of local_reply").

Reuses the configs the end-to-end suites rendered under target/e2e (run `cargo xtask test`, or
the three envoy_e2e runs it makes, first): for each stack it starts s3s-fs on the stack's
storage port and the proxy with its rendered config, then requests the same URLs in interleaved
rounds and prints the median time per case and stack, in ms.

    python3 tools/measure_header_modes.py [ROUNDS]      (default 9)
"""
import os, re, shutil, statistics, subprocess, sys, time, socket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T = f"{ROOT}/target/tools"
CORPUS = os.environ.get("IPF_CORPUS") or next(
    (d for d in (f"{ROOT}/../shared/corpus", "/work/shared/corpus") if os.path.isdir(d)), None)
if CORPUS is None:
    raise SystemExit("no corpus: set IPF_CORPUS")
# 16 MP progressive JPEG (1.5 MB) and a 1.1 MB JPEG, copied into each stack's bucket.
PHOTOS = {"p16.jpg": f"{CORPUS}/photos/seeding_by_Clements_Engelhardt.jpg",
          "sunset.jpg": f"{CORPUS}/photos/sunset_by_Aitzol_Berasategi.jpg"}
STACKS = [
    ("envoy held", f"{ROOT}/target/e2e/envoy/held", "envoy"),
    ("envoy local_reply", f"{ROOT}/target/e2e/envoy-local_reply/held", "envoy"),
    ("envoy early", f"{ROOT}/target/e2e/envoy/early", "envoy"),
    ("nginx local_reply", f"{ROOT}/target/e2e/nginx/held", "nginx"),
    ("nginx early", f"{ROOT}/target/e2e/nginx/early", "nginx"),
]
CASES = [
    ("16 MP progressive jpeg (1.5 MB) -> 200 px", "/demo/p16.jpg?x-bce-process=image/resize,w_200"),
    ("1.1 MB jpeg -> 1080 px webp", "/demo/sunset.jpg?x-bce-process=image/resize,w_1080/format,f_webp"),
    ("1.5 MB jpeg, no command", "/demo/p16.jpg"),
    ("2 KB png -> 20 px", "/demo/pngsuite.png?x-bce-process=image/resize,w_20"),
]
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 9

def wait_port(port, limit=60):
    t = time.time()
    while time.time() - t < limit:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"port {port} not up")

procs = []
stacks = []
try:
    for name, d, kind in STACKS:
        if not os.path.isdir(d):
            print(f"skip {name}: {d} missing"); continue
        if kind == "envoy":
            conf = open(f"{d}/envoy.yaml").read()
            listen = int(re.search(r"- name: images\n(?:.*\n)*?.*port_value: (\d+)", conf).group(1))
            storage = int(re.search(r"cluster_name: storage\n(?:.*\n)*?.*port_value: (\d+)", conf).group(1))
        else:
            conf = open(f"{d}/nginx.conf").read()
            listen = int(re.search(r"listen 127.0.0.1:(\d+);", conf).group(1))
            storage = int(re.search(r"server 127.0.0.1:(\d+);", conf).group(1))
        root = f"{d}/storage-root"
        bucket = os.path.realpath(f"{root}/demo")
        for name_in_bucket, src in PHOTOS.items():
            shutil.copy(src, f"{bucket}/{name_in_bucket}")
        log = open(f"/tmp/measure-{name.replace(' ', '_')}.log", "w")
        procs.append(subprocess.Popen([f"{T}/bin/s3s-fs-nodelay", "--host", "127.0.0.1", "--port", str(storage),
                                       "--access-key", "demo-ak", "--secret-key", "demo-sk", root],
                                      stdout=log, stderr=log))
        wait_port(storage)
        if kind == "envoy":
            procs.append(subprocess.Popen([f"{T}/venv/bin/envoy", "-c", f"{d}/envoy.yaml", "--concurrency", "1",
                                           "--base-id", str(listen), "--log-level", "warn"], stdout=log, stderr=log))
        else:
            procs.append(subprocess.Popen(["/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/measure-error.log",
                                           "-g", "daemon off;"], stdout=log, stderr=log))
        wait_port(listen)
        stacks.append((name, listen))
    time.sleep(2)
    times = {(s, c): [] for s, _ in stacks for c, _ in CASES}
    for r in range(ROUNDS + 1):
        for cname, path in CASES:
            for sname, port in stacks:
                out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                                      f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout.split()
                if out[0] != "200":
                    print(f"{sname} {cname}: status {out[0]}")
                if r > 0:
                    times[(sname, cname)].append(float(out[1]) * 1000)
    print(f"medians of {ROUNDS} interleaved rounds, ms")
    print("| case | " + " | ".join(s for s, _ in stacks) + " |")
    print("|---|" + "---|" * len(stacks))
    for cname, _ in CASES:
        print(f"| {cname} | " + " | ".join(f"{statistics.median(times[(s, cname)]):.1f}" for s, _ in stacks) + " |")
finally:
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(5)
        except Exception:
            p.kill()
    os.system("pkill -f 'measure-error.log' >/dev/null 2>&1")
