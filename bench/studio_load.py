#!/usr/bin/env python3
"""The studio's side of bench/studio.sh: first-page latency (median of REPS)
and N concurrent first-page requests, against a running studio.

    studio_load.py URL REPS CONCURRENT

Prints "first_page_ms MEDIAN", "concurrent_wall_ms W", "concurrent_max_ms M".
"""
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "studio"))
from http_check import Studio  # noqa: E402

PAGE = "/rows?schema=public&table=big"


def main():
    url, reps, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    s = Studio(url)
    s.sign_in()
    s.get(PAGE)                       # warm: catalog caches, the plan
    times = []
    for _ in range(reps):
        t0 = time.monotonic()
        st, _, _ = s.get(PAGE)
        times.append((time.monotonic() - t0) * 1000)
        if st != 200:
            sys.exit("first page: HTTP %d" % st)
    print("first_page_ms %.1f" % statistics.median(times))
    lat, lock = [], threading.Lock()

    def one():
        t0 = time.monotonic()
        st, _, _ = s.get(PAGE, timeout=60)
        with lock:
            lat.append(((time.monotonic() - t0) * 1000, st))

    threads = [threading.Thread(target=one) for _ in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = (time.monotonic() - t0) * 1000
    if any(st != 200 for _, st in lat):
        sys.exit("concurrent: some requests failed")
    print("concurrent_wall_ms %.0f" % wall)
    print("concurrent_max_ms %.0f" % max(ms for ms, _ in lat))


if __name__ == "__main__":
    main()
