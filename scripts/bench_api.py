"""The JSON API's registration flow, for the bench scripts (standard library only)."""
import http.cookiejar, json, os, time, urllib.parse, urllib.request

PASSWORD = "a calm river at dawn"
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(n):
    """A valid 18-digit resident ID (check digit per GB 11643) that differs for each n."""
    first = f"110105{1950 + (n // 1000) % 50}0101{n % 1000:03d}"
    return first + "10X98765432"[sum(int(a) * w for a, w in zip(first, W)) % 11]


class Client:
    """One browser-like client: its own cookie jar, the CSRF token in a header."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = None

    def call(self, method, path, body=None, headers=()):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("content-type", "application/json")
        for name, value in headers:
            req.add_header(name, value)
        if self.token:
            req.add_header("x-csrf-token", self.token)
        with self.opener.open(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def register(self, phone, real_name, id_number):
        """GET csrf, ask for a code, read it from the dev outbox, register with the current consents."""
        self.token = self.call("GET", "/api/v1/csrf")["csrf_token"]
        self.call("POST", "/api/v1/sms-codes", {"phone": phone, "purpose": "register"})
        code = self.sms_code(phone)
        consents = self.call("GET", "/api/v1/consents")["current"]
        consents = [{"document": c["document"], "version": c["version"]} for c in consents]
        return self.call("POST", "/api/v1/registrations", {
            "phone": phone, "code": code, "password": PASSWORD,
            "real_name": real_name, "id_number": id_number, "consents": consents})

    def sms_code(self, phone, wait=10.0):
        # SMS go out in the background: poll the outbox briefly for the newest code.
        deadline = time.time() + wait
        path = "/api/v1/dev/sms-outbox?" + urllib.parse.urlencode({"phone": phone})
        while True:
            # The outbox answers only with the dev token the server was started with.
            token = os.environ["FUZHEN_DEV_TOKEN"]
            messages = self.call("GET", path, headers=[("x-fuzhen-dev-token", token)])["messages"]
            codes = [m.get("code") for m in messages if m.get("code")]
            if codes:
                return codes[-1]
            if time.time() > deadline:
                raise RuntimeError(f"no SMS code for {phone} in the dev outbox after {wait} s")
            time.sleep(0.02)
