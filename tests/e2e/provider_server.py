"""A local SMS and push provider for the delivery tests, on 127.0.0.1: it
speaks the request and answer shapes of the providers the delivery engine
supports (services/delivery/domain/providers.h), including their errors and
rate limits.

SMS (Twilio's Messages API):
  POST /2010-04-01/Accounts/{sid}/Messages.json, form To/From|MessagingServiceSid/Body,
  HTTP Basic sid:token.
  201 {"sid": "SM...", "status": "queued", ...}; 401 code 20003 for other
  credentials; 400 code 21211 for a To that is not E.164, code 21610 for a
  number in `stopped` (it replied STOP); 429 code 20429 with Retry-After
  while `throttle` > 0 (each such answer takes one off). With a
  StatusCallback it then reports, signed with X-Twilio-Signature
  (HMAC-SHA1 of the URL and the sorted parameters under the token), "sent"
  and "delivered" — or "undelivered" with ErrorCode 30003 for a number in
  `unreachable` — from another thread, as Twilio does.
Push (OneSignal's notifications API):
  POST /notifications, JSON {app_id, include_aliases.external_id, headings,
  contents, idempotency_key}, "Authorization: Key <key>".
  200 {"id": ...}; the same idempotency_key answers the first id and sends
  nothing again; 200 {"id": "", "errors": {"invalid_aliases": ...}} when no
  alias is in `subscribed`; 400 for another app_id; 403 for another key;
  429 with Retry-After while `throttle` > 0."""
import base64
import hashlib
import hmac
import json
import re
import threading
import urllib.parse
import uuid
import http.server
import urllib.error
import urllib.request


class ProviderServer:
    def __init__(self, sid="AC" + "0" * 32, token="tw-token", app_id=None, key="os-key"):
        self.sid, self.token = sid, token
        self.app_id, self.key = app_id or str(uuid.uuid4()), key
        self.sms = []         # accepted SMS: dicts To, From, Body, sid
        self.pushes = []      # accepted pushes: the request JSON plus "id"
        self.requests = []    # every request: (path, headers, body)
        self.stopped = set()  # numbers that replied STOP
        self.subscribed = set()  # external ids with a subscribed device
        self.unreachable = set()  # numbers whose SMS is reported undelivered
        self.callbacks = []   # status callbacks made: (url, form, HTTP status answered)
        self.throttle = 0     # answer 429 to that many next requests
        self.keys = {}        # idempotency_key -> notification id
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                    throttled = outer.throttle > 0
                    if throttled:
                        outer.throttle -= 1
                m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", self.path)
                if m:
                    return self.twilio(m.group(1), body, throttled)
                if self.path == "/notifications":
                    return self.onesignal(body, throttled)
                self.answer(404, {"message": "not found"})

            def twilio(self, sid, body, throttled):
                expected = "Basic " + base64.b64encode(
                    ("%s:%s" % (outer.sid, outer.token)).encode()).decode()
                if sid != outer.sid or self.headers.get("Authorization") != expected:
                    return self.answer(401, {"code": 20003, "message": "Authenticate",
                                             "status": 401})
                if throttled:
                    return self.answer(429, {"code": 20429, "message": "Too Many Requests",
                                             "status": 429}, {"Retry-After": "1"})
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                to = form.get("To", "")
                if not re.fullmatch(r"\+[1-9][0-9]{6,14}", to):
                    return self.answer(400, {"code": 21211, "status": 400, "message":
                                             "The 'To' number %s is not a valid phone number."
                                             % to})
                if to in outer.stopped:
                    return self.answer(400, {"code": 21610, "status": 400, "message":
                                             "Attempt to send to unsubscribed recipient"})
                msid = "SM" + uuid.uuid4().hex
                with outer.lock:
                    outer.sms.append(dict(form, sid=msid))
                if form.get("StatusCallback"):
                    threading.Thread(target=outer.report, daemon=True,
                                     args=(form["StatusCallback"], msid, to)).start()
                self.answer(201, {"sid": msid, "status": "queued", "to": to,
                                  "body": form.get("Body", "")})

            def onesignal(self, body, throttled):
                if self.headers.get("Authorization") != "Key " + outer.key:
                    return self.answer(403, {"errors": ["Access denied. Please include an "
                                                        "'Authorization: ...' header"]})
                if throttled:
                    return self.answer(429, {"errors": ["API rate limit exceeded"]},
                                       {"Retry-After": "1"})
                try:
                    req = json.loads(body)
                except ValueError:
                    return self.answer(400, {"errors": ["Invalid JSON"]})
                if req.get("app_id") != outer.app_id:
                    return self.answer(400, {"errors": ["app_id not found"]})
                aliases = req.get("include_aliases", {}).get("external_id", [])
                with outer.lock:
                    known = outer.keys.get(req.get("idempotency_key"))
                    if known:
                        return self.answer(200, {"id": known, "external_id": None})
                    if not any(a in outer.subscribed for a in aliases):
                        return self.answer(200, {"id": "", "errors": {
                            "invalid_aliases": {"external_id": aliases}}})
                    nid = str(uuid.uuid4())
                    outer.keys[req.get("idempotency_key")] = nid
                    outer.pushes.append(dict(req, id=nid))
                self.answer(200, {"id": nid, "external_id": None})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, url, form):
        data = url + "".join(k + form[k] for k in sorted(form))
        return base64.b64encode(hmac.new(self.token.encode(), data.encode(),
                                         hashlib.sha1).digest()).decode()

    def post_status(self, url, form, signature=None):
        req = urllib.request.Request(
            url, data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": signature or self.sign(url, form)})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        with self.lock:
            self.callbacks.append((url, form, status))
        return status

    def report(self, url, msid, to):
        base = {"MessageSid": msid, "AccountSid": self.sid, "To": to}
        self.post_status(url, dict(base, MessageStatus="sent"))
        if to in self.unreachable:
            self.post_status(url, dict(base, MessageStatus="undelivered", ErrorCode="30003",
                                       ErrorMessage="Unreachable destination handset"))
        else:
            self.post_status(url, dict(base, MessageStatus="delivered"))

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()
