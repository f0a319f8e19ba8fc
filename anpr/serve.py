"""``anpr serve``: read plates over HTTP, for systems written in any language.

One event loop (uvicorn) takes the requests; reading is CPU-bound, so each photo goes
to a pool of reader processes that load the models once. The loop never reads a photo
itself. What the pool may hold is bounded (``workers + queue`` photos): past that a
request gets 503 with ``Retry-After`` at once, so a burst never grows memory.

Slow and broken clients are bounded too. An upload takes one of those ``workers +
queue`` places only once its whole body has arrived, so uploads that stall cannot keep
photos from the readers. A body must arrive within ``--body-timeout`` seconds (30 by
default) plus one second per `BODY_RATE` bytes, else 408 and the connection is closed; a
request head must arrive within the same time of the connection opening (or of the last
answer on it), else the connection is closed. At most `MAX_CONNECTIONS` connections are
open at once, and the bodies arriving together hold at most ``(workers + queue) *
max_bytes`` bytes (past that, 503). An answer given before the body has all arrived (a
413 over ``--max-bytes``, a 401, a 404) waits until the rest is read and thrown away (if
the body is at most `DRAIN_LIMIT` times ``--max-bytes`` and on time), so that clients
that send the whole body before reading (urllib, cameras) get it rather than a reset
connection; past that the answer is sent at once and the connection closed.
``GET /health`` says how many uploads are arriving, being read and waiting.

Endpoints: ``POST /v1/read`` (the photo as the raw body or as the multipart field
``image``; answers the JSON record of ``anpr read-plate --json``), ``GET /health``,
``GET /metrics`` (Prometheus), ``GET /`` (a web page to try it), ``/docs`` and
``/openapi.json``. Every error is ``{"error": "<one line>"}`` with its status.

Needs the ``serve`` extra: ``pip install 'anpr[serve]'``.
"""



import asyncio
import hmac
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decode import available_regions, load_region
from .errors import ImageError

STATIC = Path(__file__).with_name("static")
MAX_BYTES = 20 * 1024 * 1024
"""Largest upload accepted by default (``--max-bytes``)."""

QUEUE = 32
"""Photos that may wait for a free reader by default (``--queue``)."""

BODY_TIMEOUT = 30.0
"""Seconds an upload's body may take to arrive by default (``--body-timeout``), on top of
one second per `BODY_RATE` bytes. 30 s is half of nginx's ``client_body_timeout`` (60 s
between two reads; this one bounds the whole body, `BODY_RATE` allowing for its size): a
camera whose photo has not come in that time has lost its link."""

BODY_RATE = 8 * 1024
"""Slowest average rate (bytes per second) an upload may arrive at, past its first
``body_timeout`` seconds: 64 kbit/s, a poor GPRS link, so a 1 MB photo has 30 + 128 s.
A client that trickles a byte now and then is cut off after ``body_timeout``."""

DRAIN_LIMIT = 5
"""A body answered before it has all arrived (413 over ``max_bytes``, 401, 404) is still
read to its end (and thrown away) if it is at most this many times ``max_bytes``, so that
clients that send the whole body before reading the answer get it: a server that answers
and closes while they send makes them see "connection reset". Five times covers the usual
mistake (a photo a few times too big, 4x as multipart); past it, reading on costs more
than an answer the client may never see."""

MAX_CONNECTIONS = 1000
"""Connections open at once past which a new one is closed at once (fewer where the
process may open fewer files). A stalled upload costs the server about 45 kB (400 of them
grew it by 18 MB in tests/test_serve.py; a head is at most 16 kB, h11's limit), so a
thousand cost under 50 MB, and are far more than a few readers can serve."""

OPEN_PATHS = ("/health", "/", "/static/")
"""Paths served without an API key: the health check, and the web page's static files
(which hold no data; the page sends the key the user types with each upload)."""


# --------------------------------------------------------------------------- reader processes


def _reading_function(default_region: str | None, max_pixels: int):
    """Runs once in each reader process: the function that reads one upload."""
    from .images import load_image
    from .reader import PlateReader
    from .records import make_record, read_record, unexpected_message

    readers: dict[str | None, Any] = {default_region: PlateReader(region=default_region)}

    def read(item: tuple) -> tuple[int, dict]:
        data, name, region, crop = item
        region = region or default_region
        if region not in readers:
            readers[region] = PlateReader(region=region)
        t0 = time.perf_counter()
        try:
            image = load_image(data, max_pixels=max_pixels, name=name)  # what decides 422
        except ImageError as exc:
            return 422, make_record(name, None, None, [], t0, error=" ".join(str(exc).split()))
        except Exception as exc:  # noqa: BLE001 - a bug, not the upload's fault
            return 500, make_record(name, None, None, [], t0, error=unexpected_message(name, exc))
        record = read_record(readers[region], image, name, crop=crop, max_pixels=max_pixels)
        record["time_ms"] = round((time.perf_counter() - t0) * 1e3, 1)  # decoding included
        return (500 if record["error"] else 200), record

    return read


def load_keys(path: str | os.PathLike[str]) -> list[bytes]:
    """API keys from a file, one per line (blank lines and ``#`` comments skipped).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# gate 1\\nk3y-one\\n\\n  k3y-two  \\n")
    >>> load_keys(f.name)
    [b'k3y-one', b'k3y-two']
    >>> os.unlink(f.name)
    """
    keys = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                keys.append(line.encode("utf-8"))
    if not keys:
        raise ValueError(f"{path}: no API keys in the file (one per line)")
    return keys


def key_ok(given: str | None, keys: list[bytes]) -> bool:
    """Whether ``given`` is one of ``keys``, compared in constant time (every key is
    compared, whatever matches).

    >>> key_ok("abc", [b"xyz", b"abc"]), key_ok(None, [b"abc"]), key_ok("ab", [b"abc"])
    (True, False, False)
    """
    if not given:
        return False
    g = given.encode("utf-8", "surrogateescape")
    ok = False
    for k in keys:
        ok |= hmac.compare_digest(g, k)
    return ok


@dataclass
class Settings:
    """What ``anpr serve`` was started with."""

    workers: int = 1
    queue: int = QUEUE
    region: str | None = None
    max_pixels: int = 60_000_000
    max_bytes: int = MAX_BYTES
    keys: list[bytes] = field(default_factory=list)
    body_timeout: float = BODY_TIMEOUT
    max_connections: int = field(default_factory=lambda: default_max_connections())


def default_max_connections() -> int:
    """`MAX_CONNECTIONS`, or fewer where the process may open fewer files: 64 files are
    left for the rest (the listening socket, the reader processes' pipes, model files).

    >>> 0 < default_max_connections() <= MAX_CONNECTIONS
    True
    """
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, soft - 64))


def body_deadline(start: float, arrived: int, body_timeout: float) -> float:
    """When (``time.monotonic()``) the rest of a body must have arrived, given that it began
    at ``start`` and ``arrived`` bytes came: ``body_timeout`` s plus one per `BODY_RATE` bytes.

    >>> body_deadline(100.0, 0, 30.0), body_deadline(100.0, 8 * 1024 * 10, 30.0)
    (130.0, 140.0)
    """
    return start + body_timeout + arrived / BODY_RATE


# --------------------------------------------------------------------------- connections


def http_protocol(settings: Settings):
    """The uvicorn HTTP protocol ``anpr serve`` runs: uvicorn's h11 one with the two bounds
    uvicorn lacks. A request head must arrive within ``settings.body_timeout`` s of the
    connection opening or of the last answer on it (uvicorn waits for a head forever, and
    its keep-alive timeout restarts on every byte), else the connection is closed; past
    ``settings.max_connections`` open connections a new one is closed at once."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > settings.max_connections:
                transport.close()
                return
            self.wait_for_head()

        def wait_for_head(self) -> None:
            self.stop_waiting()
            self.head_timer = self.loop.call_later(settings.body_timeout, self.transport.close)

        def stop_waiting(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request head arrived
                self.stop_waiting()

        def on_response_complete(self) -> None:
            self.wait_for_head()  # for the next request, or the rest of an unread body
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self.stop_waiting()
            super().connection_lost(exc)

    return Protocol


class DrainBeforeAnswer:
    """ASGI middleware: an answer given before the request's body has all arrived (401,
    404, 413, 408, ...) is sent only once the rest is read and thrown away, so that
    clients that send the whole body before reading (urllib with ``Connection: close``,
    cameras) get it: uvicorn closing with unread data makes their kernel see a reset.
    Nothing is read past `DRAIN_LIMIT` times ``max_bytes`` or the body's deadline, nor for
    a client that waits for ``100 Continue`` and has not been told to send: then the
    answer says ``Connection: close`` (and uvicorn closes once it is sent)."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = self.expected_body(scope)

        async def counted():
            body["asked"] = True  # uvicorn sends 100 Continue on the first receive
            message = await receive()
            body["received"] += len(message.get("body", b""))
            body["done"] = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def answer(message) -> None:
            starts = message["type"] == "http.response.start"
            if starts and not body["done"] and not await self.discard_rest(receive, body):
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, counted, answer)

    @staticmethod
    def expected_body(scope) -> dict:
        """What the request's head says of its body, and what has arrived so far."""
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"").strip()
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        return {"start": time.monotonic(), "received": 0, "asked": False,
                "length": int(length) if length.isdigit() else None,
                "done": not chunked and (not length.isdigit() or int(length) == 0),
                "waits": headers.get(b"expect", b"").lower() == b"100-continue"}

    async def discard_rest(self, receive, body: dict) -> bool:
        """Reads the rest of the body and throws it away, within bounds: whether it all came."""
        bound = DRAIN_LIMIT * self.settings.max_bytes
        if (body["waits"] and not body["asked"]) or (body["length"] or 0) > bound:
            return False
        while not body["done"] and body["received"] <= bound:
            deadline = body_deadline(body["start"], body["received"], self.settings.body_timeout)
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return False
            body["received"] += len(message.get("body", b""))
            body["done"] = message["type"] != "http.request" or not message.get("more_body", False)
        return body["done"]


# --------------------------------------------------------------------------- the app


def create_app(settings: Settings):
    """The ASGI app (FastAPI) for ``settings``; the reader pool starts with it."""
    from .errors import require

    require("fastapi", "serve")
    require("multipart", "serve")
    prom = require("prometheus_client", "serve")
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from starlette.exceptions import HTTPException

    from . import __version__
    from .batch import mp_context, worker_chunk, worker_init

    registry = prom.CollectorRegistry()
    requests_total = prom.Counter("anpr_requests_total", "HTTP requests answered, by status", ["status"],
                                  registry=registry)
    read_seconds = prom.Histogram("anpr_read_seconds", "Time to read one photo (in a reader process)",
                                  buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=registry)
    plates_total = prom.Counter("anpr_plates_read_total", "Plates read", registry=registry)
    busy = prom.Gauge("anpr_photos_in_flight", "Photos being read or waiting for a reader", registry=registry)
    arriving = prom.Gauge("anpr_uploads_arriving", "Uploads whose body is still arriving", registry=registry)

    # in_flight: photos being read or waiting for a reader; arriving: uploads whose body
    # is arriving, and arriving_bytes what they hold so far.
    state: dict[str, Any] = {"pool": None, "in_flight": 0, "arriving": 0, "arriving_bytes": 0}
    arriving_budget = (settings.workers + settings.queue) * settings.max_bytes

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            settings.workers, mp_context=mp_context(), initializer=worker_init,
            initargs=(_reading_function, (settings.region, settings.max_pixels), os.getpid()),
        )

    async def lifespan(app):
        state["pool"] = new_pool()
        loop = asyncio.get_running_loop()
        # Start every reader now (each loads the models), not on the first requests.
        warm = [loop.run_in_executor(state["pool"], worker_chunk, []) for _ in range(settings.workers)]
        await asyncio.gather(*warm)
        yield
        state["pool"].shutdown(wait=True, cancel_futures=True)

    app = FastAPI(title="anpr", version=__version__, lifespan=lifespan,
                  description="Read vehicle number plates from photos.")

    def error(status: int, message: str, headers: dict | None = None, close: bool = False) -> JSONResponse:
        if close:  # uvicorn closes the connection once this answer is sent
            headers = {**(headers or {}), "Connection": "close"}
        return JSONResponse({"error": " ".join(message.split())}, status_code=status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        messages = {404: f"no such path: {request.url.path}",
                    405: f"{request.method} is not allowed on {request.url.path}"}
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error(400, f"bad request: {where}: {first.get('msg', 'invalid')}")

    @app.middleware("http")
    async def keys_and_counts(request: Request, call_next):
        path = request.url.path
        open_path = path == "/health" or path == "/" or path.startswith("/static/")
        if settings.keys and not open_path:
            auth = request.headers.get("authorization", "")
            given = auth[7:].strip() if auth[:7].lower() == "bearer " else request.headers.get("x-api-key")
            if not key_ok(given, settings.keys):
                response = error(401, "missing or wrong API key (send Authorization: Bearer KEY or X-API-Key: KEY)",
                                 {"WWW-Authenticate": "Bearer"})
                requests_total.labels("401").inc()
                return response
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - never a traceback to the client
            response = error(500, f"internal error ({type(exc).__name__})")
        requests_total.labels(str(response.status_code)).inc()
        return response

    app.add_middleware(DrainBeforeAnswer, settings=settings)  # added after keys_and_counts: outside it

    @app.get("/health")
    async def health():
        reading = min(state["in_flight"], settings.workers)
        return {"status": "ok", "version": __version__, "workers": settings.workers,
                "in_flight": state["in_flight"], "reading": reading, "waiting": state["in_flight"] - reading,
                "arriving": state["arriving"]}

    @app.get("/metrics")
    async def metrics():
        return Response(prom.generate_latest(registry), media_type=prom.CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return error(404, f"no such file: {name}")
        return FileResponse(path)

    async def next_chunk(request: Request, deadline: float) -> dict:
        """The next message of the request body, or TimeoutError past ``deadline``."""
        return dict(await asyncio.wait_for(request.receive(), max(0.0, deadline - time.monotonic())))

    async def body_within(request: Request) -> bytes | JSONResponse:
        """The whole body, or the error to answer: 413 over ``max_bytes``, 408 late, 503
        when the bodies arriving together would hold more than ``arriving_budget``."""
        state["arriving"] += 1
        arriving.inc()
        try:
            return await receive_body(request)
        finally:
            state["arriving"] -= 1
            arriving.dec()

    async def receive_body(request: Request) -> bytes | JSONResponse:
        """`body_within`'s work, uploads arriving counted by it."""
        length, start = request.headers.get("content-length"), time.monotonic()
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return error(400, "bad Content-Length", close=True)
            if n > settings.max_bytes:  # DrainBeforeAnswer reads the rest before answering
                return error(413, f"upload of {n} bytes is over the limit of {settings.max_bytes} bytes", close=True)
        chunks, size = [], 0
        try:
            while True:
                try:
                    message = await next_chunk(request, body_deadline(start, size, settings.body_timeout))
                except asyncio.TimeoutError:
                    return error(408, f"the body did not arrive in time ({size} bytes in "
                                      f"{time.monotonic() - start:.0f} s; --body-timeout is "
                                      f"{settings.body_timeout:g} s plus 1 s per {BODY_RATE} bytes)", close=True)
                if message["type"] != "http.request":
                    return error(400, "the client closed the connection before the body arrived", close=True)
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > settings.max_bytes:
                    return error(413, f"upload is over the limit of {settings.max_bytes} bytes", close=True)
                if state["arriving_bytes"] + len(chunk) > arriving_budget:
                    return error(503, "too many uploads arriving at once; retry later", {"Retry-After": "1"},
                                 close=True)
                chunks.append(chunk)
                state["arriving_bytes"] += len(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        finally:
            state["arriving_bytes"] -= sum(len(c) for c in chunks)

    def flag(value: str | None) -> bool | None:
        if value is None or value == "":
            return False
        v = value.strip().lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("0", "false", "no", "off"):
            return False
        return None

    read_doc = {
        "requestBody": {"content": {
            "image/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "image": {"type": "string", "format": "binary"},
                "region": {"type": "string"}, "crop": {"type": "boolean"}}}},
        }},
        "parameters": [
            {"name": "region", "in": "query", "schema": {"type": "string", "enum": available_regions()}},
            {"name": "crop", "in": "query", "schema": {"type": "boolean"}},
        ],
    }

    @app.post("/v1/read", openapi_extra=read_doc,
              summary="Read the plates in one photo",
              description="The photo as the raw body (image/* or application/octet-stream) or as the "
                          "multipart form field `image`. Answers the JSON record of `anpr read-plate --json`.")
    async def read(request: Request):
        body = await body_within(request)  # no reading slot while the body arrives
        if isinstance(body, JSONResponse):
            return body
        if state["in_flight"] >= settings.workers + settings.queue:
            return error(503, f"all {settings.workers} readers are busy and {settings.queue} photos wait; retry later",
                         {"Retry-After": "1"})
        state["in_flight"] += 1
        busy.inc()
        try:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            region, crop, name = request.query_params.get("region"), request.query_params.get("crop"), "-"
            if ctype == "multipart/form-data":
                async def replay():
                    return {"type": "http.request", "body": body, "more_body": False}

                try:
                    form = await Request(request.scope, replay).form(max_files=2, max_fields=10)
                except Exception as exc:  # noqa: BLE001 - python-multipart's parse errors
                    return error(400, f"bad multipart form: {exc}")
                upload = form.get("image")
                if upload is None or isinstance(upload, str):
                    return error(400, "no file in the multipart field 'image'")
                data = await upload.read()
                name = upload.filename or "-"
                given_region, given_crop = form.get("region"), form.get("crop")
                region = given_region if isinstance(given_region, str) and given_region else region
                crop = given_crop if isinstance(given_crop, str) and given_crop else crop
            else:
                # Any other type is the raw photo: curl's --data-binary sends it as a form
                # type unless told; the content decides whether it is an image.
                data = body
            if not data:
                return error(400, "no image: the body is empty")
            if region is not None:
                region = str(region).strip().lower() or None
            if region is not None:
                try:
                    load_region(region)
                except ValueError as exc:
                    return error(400, str(exc))
            crop_flag = flag(crop if crop is None else str(crop))
            if crop_flag is None:
                return error(400, f"crop must be true or false, not {crop!r}")
            t0 = time.perf_counter()
            try:
                (status, record), = await asyncio.get_running_loop().run_in_executor(
                    state["pool"], worker_chunk, [(data, name, region, crop_flag)])
            except Exception as exc:  # noqa: BLE001 - a reader process died: start afresh, keep serving
                from concurrent.futures.process import BrokenProcessPool

                if isinstance(exc, BrokenProcessPool):
                    state["pool"] = new_pool()
                    return error(500, "the reader process died while reading this photo")
                return error(500, f"internal error ({type(exc).__name__})")
            read_seconds.observe(time.perf_counter() - t0)
            if status != 200:
                return error(status, record["error"] or "cannot read this image")
            plates_total.inc(len(record["plates"]))
            return JSONResponse(record)
        finally:
            state["in_flight"] -= 1
            busy.dec()

    return app
