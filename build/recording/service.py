#!/usr/bin/python3
# A small device-management service, the long-lived program of the recordings: a status
# page, a host lookup, file upload and download. The lookup has a command injection on
# purpose (the host name goes to a shell), which the web_shell attack uses.
# Usage: service.py PORT DATA_DIR   (listens on 127.0.0.1 only)
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, unquote, urlparse

PORT = int(sys.argv[1])
DATA = sys.argv[2]
STARTED = time.time()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(os.path.join(DATA, "access.log"), "a") as log:
            log.write("%s %s\n" % (self.address_string(), fmt % args))

    def reply(self, code, body, kind="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/":
            self.reply(200, "<html><body><h1>device</h1><a href=/status>status</a></body></html>", "text/html")
        elif url.path == "/status":
            with open("/proc/loadavg") as f:
                load = f.read().split()[:3]
            st = os.statvfs(DATA)
            self.reply(200, json.dumps({"uptime": round(time.time() - STARTED, 1), "load": load, "free": st.f_bavail * st.f_frsize, "files": len(os.listdir(DATA))}))
        elif url.path == "/lookup":
            host = parse_qs(url.query).get("host", ["localhost"])[0]
            # The injection: the host name goes to a shell unquoted.
            out = subprocess.run("getent hosts " + host, shell=True, capture_output=True, text=True, timeout=20)
            self.reply(200, json.dumps({"host": host, "result": out.stdout.strip()}))
        elif url.path.startswith("/files/"):
            name = os.path.basename(unquote(url.path[len("/files/"):]))
            path = os.path.join(DATA, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.reply(200, f.read(), "application/octet-stream")
            else:
                self.reply(404, json.dumps({"error": "no such file"}))
        else:
            self.reply(404, json.dumps({"error": "not found"}))

    def do_POST(self):
        url = urlparse(self.path)
        if url.path != "/upload":
            self.reply(404, json.dumps({"error": "not found"}))
            return
        name = os.path.basename(parse_qs(url.query).get("name", ["upload.bin"])[0])
        size = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(size)
        with open(os.path.join(DATA, name), "wb") as f:
            f.write(body)
        self.reply(201, json.dumps({"stored": name, "bytes": len(body)}))


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
