import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers['Content-Length']); data = self.rfile.read(n)
        open('/tmp/cap/' + self.path.strip('/') + '.sdp', 'wb').write(data)
        self.send_response(200); self.end_headers()
http.server.ThreadingHTTPServer(('127.0.0.1', 8765), H).serve_forever()
