"""Registers one patient through the JSON API and prints the Cookie header of its session
(fuzhen_session and fuzhen_csrf), for wrk: python3 scripts/bench_login.py BASE [PHONE]."""
import sys
from bench_api import Client

base = sys.argv[1]
phone = sys.argv[2] if len(sys.argv) > 2 else "13800138000"
client = Client(base)
client.register(phone, "张三", "11010519491231002X")
names = {c.name for c in client.jar}
if not any(n.endswith("fuzhen_session") for n in names):
    sys.exit(f"registration set no session cookie (cookies: {sorted(names)})")
print(client.cookie_header())
