"""
Whirl's OpenWhisk-compatible Python action proxy.

Standard library only: it runs inside a FROM-scratch image that holds nothing but the interpreter and
its stdlib. The HTTP contract is the one of OpenWhisk's python runtime (OPENWHISK-COMPAT.md section 5);
error texts follow Whirl's Node.js proxy so the invoker sees one dialect whatever the language.
"""
import base64
import importlib.util
import io
import json
import os
import socketserver
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
FAKE_SENTINEL_SUFFIX = " (printed by the action)"
BODY_LIMIT = 48 * 1024 * 1024
PORT = int(os.environ.get("__OW_PROXY_PORT") or 8080)
ALLOW_CONCURRENT = os.environ.get("__OW_ALLOW_CONCURRENT") == "true"
# Whirl's invoker (runtimes.json `capabilities`): a Unix socket to serve on besides the port, and a
# directory for one log file per activation instead of stdout/stderr. Same rules and file format as
# the Node proxies' proxy-http.js and log-files.js. Taken out of the environment the action inherits.
WHIRL_DIR = "/whirl"
_socket_env = os.environ.pop("WHIRL_PROXY_SOCKET", None)
SOCKET_PATH = (_socket_env or None) if _socket_env is not None else (os.path.join(WHIRL_DIR, "proxy.sock") if os.path.isdir(WHIRL_DIR) else None)
LOG_DIR = os.environ.pop("WHIRL_PROXY_LOG_DIR", None) or None
LOG_CAP = 10 * 1024 * 1024 + 1
if LOG_DIR is not None:
    os.makedirs(LOG_DIR, exist_ok=True)


class ActivationLog:
    """Appends `<o|e><epoch ns> <text>` records to `<LOG_DIR>/<activation id>`; `c<ns> ` when cut."""

    def __init__(self, activation_id):
        self.file = os.path.join(LOG_DIR, activation_id)
        self.fd = None
        self.used = 0
        self.cut = False
        self.done = False
        self.partial = {"o": "", "e": ""}
        self.lock = threading.Lock()

    def write(self, stream, text):
        with self.lock:
            if self.done or self.cut:
                return
            pending = self.partial[stream] + text
            lines = pending.split("\n")
            self.partial[stream] = lines.pop()
            self._append(stream, lines)

    def _append(self, stream, lines):
        if not lines:
            return
        stamp = str(time.time_ns())
        out = []
        for line in lines:
            out.append(stream + stamp + " " + line + "\n")
            self.used += len(line.encode("utf-8", "backslashreplace")) + 1
            if self.used > LOG_CAP:
                out.append("c" + stamp + " \n")
                self.cut = True
                break
        try:
            if self.fd is None:
                self.fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self.fd, "".join(out).encode("utf-8", "backslashreplace"))
        except OSError:
            pass  # a full disk must not fail the activation; its logs are then incomplete

    def close(self):
        with self.lock:
            for stream in ("o", "e"):
                if self.partial[stream] != "" and not self.cut:
                    self._append(stream, [self.partial[stream]])
                self.partial[stream] = ""
            self.done = True
            if self.fd is not None:
                try:
                    os.close(self.fd)
                except OSError:
                    pass
                self.fd = None


_activation = threading.local()
_active_logs = set()
_active_lock = threading.Lock()


def activation_log(activation_id):
    if LOG_DIR is None or not isinstance(activation_id, str) or len(activation_id) != 32:
        return None
    if any(c not in "0123456789abcdef" for c in activation_id):
        return None
    return ActivationLog(activation_id)


def current_log():
    """The log of the activation this thread runs; else the only one running (threads the action started)."""
    log = getattr(_activation, "log", None)
    if log is not None:
        return log
    with _active_lock:
        return next(iter(_active_logs)) if len(_active_logs) == 1 else None


class GuardedStream(io.TextIOBase):
    """Alters sentinel lines the action prints: the invoker ends log collection at the sentinel, so
    a forged one could hide or invent log lines. The proxy writes its own through `raw`."""

    def __init__(self, raw, stream):
        super().__init__()
        self.raw = raw
        self._stream = stream
        self._tail = ""
        self._lock = threading.Lock()

    def _neutralize(self, text):
        combined = self._tail + text
        out = []
        copied = 0
        search_at = 0
        while True:
            at = combined.find(SENTINEL, search_at)
            if at < 0:
                break
            end = at + len(SENTINEL) - len(self._tail)
            if end > 0:
                out.append(text[copied:end] + FAKE_SENTINEL_SUFFIX)
                copied = end
            search_at = at + len(SENTINEL)
        out.append(text[copied:])
        self._tail = combined[-(len(SENTINEL) - 1):]
        return "".join(out)

    def write(self, text):
        if not isinstance(text, str):
            return self.raw.write(text)
        with self._lock:
            text_out = self._neutralize(text)
            log = current_log() if LOG_DIR is not None else None
            if log is not None and not log.done:
                log.write("o" if self._stream == "o" else "e", text_out)
            else:
                self.raw.write(text_out)
        return len(text)

    def flush(self):
        self.raw.flush()

    def reset_tail(self):
        with self._lock:
            self._tail = ""

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self.raw.fileno()

    @property
    def encoding(self):
        return self.raw.encoding

    @property
    def buffer(self):
        return self.raw.buffer


for _raw in (sys.stdout, sys.stderr):
    # Action output must not fail on a C locale; the invoker reads the logs as UTF-8.
    _raw.reconfigure(encoding="utf-8", errors="backslashreplace")
sys.stdout = GuardedStream(sys.stdout, "o")
sys.stderr = GuardedStream(sys.stderr, "e")
_marker_lock = threading.Lock()


def write_markers():
    with _marker_lock:
        for stream in (sys.stdout, sys.stderr):
            # The user's buffered output must land before the sentinel, or it would count as the
            # next activation's log.
            stream.flush()
            stream.raw.write(SENTINEL + "\n")
            stream.raw.flush()
            stream.reset_tail()


def proxy_error(*parts):
    text = " ".join(str(p) for p in parts) + "\n"
    # Within an activation that logs to a file, its errors are its logs (as on stderr without files).
    log = getattr(_activation, "log", None)
    if log is not None and not log.done:
        log.write("e", text)
        return
    sys.stderr.raw.write(text)
    sys.stderr.raw.flush()


# ------------------------------------------------------------------------------------------------
# Loading the action


class InitError(Exception):
    pass


def _safe_extract(archive, root):
    real_root = os.path.realpath(root)
    for info in archive.infolist():
        target = os.path.realpath(os.path.join(real_root, info.filename))
        if target != real_root and not target.startswith(real_root + os.sep):
            raise InitError("Archive entry escapes the target directory: " + info.filename)
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            continue  # symlinks could point outside the action directory
        if info.is_dir():
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as dst:
            dst.write(src.read())


def _virtualenv_paths(root):
    """site-packages of a bundled `virtualenv/` folder, as OpenWhisk's python runtime adds them."""
    venv = os.path.join(root, "virtualenv")
    found = []
    for lib in ("lib", "lib64"):
        base = os.path.join(venv, lib)
        if not os.path.isdir(base):
            continue
        for entry in sorted(os.listdir(base)):
            site = os.path.join(base, entry, "site-packages")
            if entry.startswith("python") and os.path.isdir(site):
                found.append(site)
    return found


def _import_file(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InitError("Cannot load " + path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_action(message):
    code = message["code"]
    main = message["main"]
    root = tempfile.mkdtemp(prefix="action-")
    if message.get("binary"):
        try:
            data = base64.b64decode(code)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _safe_extract(archive, root)
        except InitError:
            raise
        except Exception as e:
            proxy_error("Error extracting the action archive:", repr(e))
            raise InitError("There was an error uncompressing the action archive.")
        entry = os.path.join(root, "__main__.py")
        if not os.path.isfile(entry):
            raise InitError("Zipped actions must contain __main__.py at the root.")
        for site in reversed(_virtualenv_paths(root)):
            sys.path.insert(0, site)
    else:
        entry = os.path.join(root, "main__.py")
        with open(entry, "w", encoding="utf-8") as f:
            f.write(code)
    # The action's own modules (zip siblings) import relative to its directory.
    sys.path.insert(0, root)
    os.chdir(root)
    # Not "__main__": that name belongs to the proxy itself.
    module = _import_file(entry, "main__")
    handler = getattr(module, main, None)
    if not callable(handler):
        raise InitError("ActionEntrypoint '%s' is not a function." % main)
    return handler


# ------------------------------------------------------------------------------------------------
# State

_state_lock = threading.Lock()
_user_main = None
_initializing = False
_running = 0


def init_code(body):
    global _user_main, _initializing
    with _state_lock:
        if _user_main is not None or _initializing:
            msg = "Cannot initialize the action more than once." if _user_main is not None else "System not ready, status is starting."
            proxy_error("Internal system error:", msg)
            return 403, {"error": msg}, False
        value = body.get("value") if isinstance(body, dict) else None
        message = value if isinstance(value, dict) else {}
        if not isinstance(message.get("main"), str) or not isinstance(message.get("code"), str) or not message["main"] or not message["code"]:
            return 403, {"error": "Missing main/no code to execute."}, True
        _initializing = True
    try:
        env = message.get("env")
        if isinstance(env, dict):
            for k, v in env.items():
                if v is None:
                    os.environ[k] = ""
                elif isinstance(v, str):
                    os.environ[k] = v
                else:
                    os.environ[k] = json.dumps(v, separators=(",", ":"))
        handler = load_action(message)
    except BaseException as e:  # SystemExit from module code is an init failure too
        text = str(e) if isinstance(e, InitError) else traceback.format_exc()
        proxy_error("Error during initialization:", text)
        with _state_lock:
            _initializing = False
        return 502, {"error": "Initialization has failed due to: " + text.rstrip()}, True
    with _state_lock:
        _user_main = handler
        _initializing = False
    return 200, {"OK": True}, False


def run_code(body):
    global _running
    with _state_lock:
        if _user_main is None:
            msg = "System not initialized." if not _initializing else "System not ready, status is starting."
            proxy_error("Internal system error:", msg)
            return 403, {"error": msg}, True
        if _running > 0 and not ALLOW_CONCURRENT:
            msg = "System not ready, status is running."
            proxy_error("Internal system error:", msg)
            # No sentinels: they would cut the running activation's logs short.
            return 403, {"error": msg}, False
        msg_body = body if isinstance(body, dict) else {}
        value = msg_body.get("value")
        if not isinstance(value, dict):
            return 403, {"error": "Internal system error: the action was not given a parameter object."}, True
        _running += 1
        handler = _user_main
    try:
        for k, v in msg_body.items():
            if k != "value" and isinstance(v, str):
                os.environ["__OW_" + k.upper()] = v
        try:
            result = handler(value)
        except Exception as e:
            traceback.print_exc()
            return 502, {"error": "An error has occurred: %s: %s" % (type(e).__name__, e)}, True
        if not isinstance(result, (dict, list)):
            proxy_error('Result must be a dictionary but has type "%s":' % type(result).__name__, repr(result)[:200])
            return 502, {"error": "The action did not return a dictionary."}, True
        try:
            json.dumps(result)
        except (TypeError, ValueError) as e:
            proxy_error("Result is not serializable as JSON:", e)
            return 502, {"error": "The action did not return a dictionary."}, True
        return 200, result, True
    finally:
        with _state_lock:
            _running -= 1


# ------------------------------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "whirl-python-proxy"

    def log_message(self, format, *args):
        pass  # access logs would land in the activation's logs

    def _send(self, code, body):
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _bad(self):
        self.close_connection = True
        self._send(500, {"error": "Bad request."})

    def do_GET(self):
        self._bad()

    def do_PUT(self):
        self._bad()

    def do_DELETE(self):
        self._bad()

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > BODY_LIMIT:
            self._bad()
            return
        raw = self.rfile.read(length) if length > 0 else b""
        if path not in ("/init", "/run"):
            self._bad()
            return
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (ValueError, UnicodeDecodeError) as e:
            proxy_error(e)
            self._bad()
            return
        # /init output belongs to the activation that triggered it (its id is in the init env).
        if path == "/run":
            activation_id = body.get("activation_id") if isinstance(body, dict) else None
        else:
            value = body.get("value") if isinstance(body, dict) else None
            env = value.get("env") if isinstance(value, dict) else None
            activation_id = env.get("__OW_ACTIVATION_ID") if isinstance(env, dict) else None
        log = activation_log(activation_id)
        if log is not None:
            _activation.log = log
            with _active_lock:
                _active_logs.add(log)
        try:
            code, result, markers = init_code(body) if path == "/init" else run_code(body)
        finally:
            if log is not None:
                # Buffered output first, so it lands in the file, not after it.
                sys.stdout.flush()
                sys.stderr.flush()
                _activation.log = None
                with _active_lock:
                    _active_logs.discard(log)
                log.close()
        # Sentinels go out before the response, so that once the invoker has its answer the end of
        # this activation's logs is already in the stream. A log file needs none: the answer says it
        # is complete.
        if markers and log is None:
            write_markers()
        self._send(code, result)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        # BaseHTTPRequestHandler expects a (host, port) client address.
        return conn, ("local", 0)


def main():
    server = Server(("0.0.0.0", PORT), Handler)
    if SOCKET_PATH is not None:
        try:
            os.unlink(SOCKET_PATH)
        except OSError:
            pass
        try:
            unix = UnixServer(SOCKET_PATH, Handler)
            # The invoker may run as another user than the action (the directory is private to both).
            os.chmod(SOCKET_PATH, 0o777)
            threading.Thread(target=unix.serve_forever, daemon=True).start()
        except OSError as e:
            proxy_error("[proxy] cannot listen on", SOCKET_PATH + ":", e)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
