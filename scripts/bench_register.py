"""Registers patients as fast as N clients can, through the JSON API, for T seconds."""
import http.cookiejar, json, sys, threading, time, urllib.request, itertools

base, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
counter = itertools.count(1)
done, failed = [0], [0]
lock = threading.Lock()

def id_number(n):
    first = f"110105{1950 + (n // 1000) % 50}0101{n % 1000:03d}"
    return first + "10X98765432"[sum(int(a) * w for a, w in zip(first, W)) % 11]

def worker():
    deadline = time.time() + seconds
    while time.time() < deadline:
        n = next(counter)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        def call(method, path, body=None, token=None):
            req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None)
            req.add_header("content-type", "application/json")
            if token: req.add_header("x-csrf-token", token)
            with opener.open(req) as r:
                return json.loads(r.read() or b"null")
        try:
            token = call("GET", "/api/v1/csrf")["csrf_token"]
            phone = f"139{n:08d}"
            call("POST", "/api/v1/sms-codes", {"phone": phone, "purpose": "register"}, token)
            code = call("GET", f"/api/v1/dev/sms-outbox?phone={phone}")["messages"][-1]["code"]
            consents = call("GET", "/api/v1/consents")["current"]
            call("POST", "/api/v1/registrations", {"phone": phone, "code": code, "password": "a calm river at dawn",
                 "real_name": "测试", "id_number": id_number(n), "consents": consents}, token)
            with lock: done[0] += 1
        except Exception as e:  # count and go on; the figure is what matters
            with lock: failed[0] += 1

start = time.time()
threads = [threading.Thread(target=worker) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - start
print(f"   registrations: {done[0]} in {elapsed:.1f} s = {done[0] / elapsed:.1f}/s ({failed[0]} failed)")
