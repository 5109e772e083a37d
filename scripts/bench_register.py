"""Registers patients as fast as N clients can, through the JSON API, for T seconds."""
import itertools, sys, threading, time
from bench_api import Client, id_number

base, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# From 1000: the demo patients (`server dev seed`) have the first 139 numbers.
counter = itertools.count(1000)
done, failed, errors = [0], [0], {}
lock = threading.Lock()


def worker():
    deadline = time.time() + seconds
    while time.time() < deadline:
        n = next(counter)
        try:
            Client(base).register(f"139{n:08d}", "测试", id_number(n))
            with lock: done[0] += 1
        except Exception as e:  # count and go on; the figure is what matters
            with lock:
                failed[0] += 1
                key = str(e)[:120]
                errors[key] = errors.get(key, 0) + 1


start = time.time()
threads = [threading.Thread(target=worker) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - start
print(f"   registrations: {done[0]} in {elapsed:.1f} s = {done[0] / elapsed:.1f}/s ({failed[0]} failed)")
for e, n in sorted(errors.items(), key=lambda kv: -kv[1])[:3]:
    print(f"   warning: {n} failed with: {e}")
