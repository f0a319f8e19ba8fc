"""``anpr serve``: the HTTP service (see `anpr.serve`)."""

from __future__ import annotations

import click

from ._common import (
    DEFAULT_MAX_MEGAPIXELS,
    default_workers,
    errors_to_exit,
    max_pixels,
    max_pixels_option,
    quiet_opencv,
    region_option,
    verbose_option,
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Reader processes (each loads the models once).  [default: all cores]")
@click.option("--queue", type=click.IntRange(min=0), default=32, show_default=True,
              help="Photos that may wait for a free reader; past that, 503 with Retry-After.")
@region_option
@max_pixels_option
@click.option("--max-bytes", type=click.IntRange(min=1), default=20 * 1024 * 1024, show_default=True,
              help="Largest upload; bigger ones get 413 without being held in memory (up to 5x "
                   "the limit is read and thrown away first, so clients that send it all get the 413).")
@click.option("--body-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds an upload's body may take to arrive, plus 1 s per 8 KiB (a 64 kbit/s floor); "
                   "a later one gets 408. Also how long a connection may take to send a request head. "
                   "An upload takes a reader's place only once its body has arrived.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="File of API keys, one per line: every request but GET /health (and the web page) "
                   "must send one (Authorization: Bearer KEY or X-API-Key: KEY).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@verbose_option
def serve(host: str, port: int, workers: int | None, queue: int, region: str | None, max_megapixels: float,
          max_bytes: int, body_timeout: float, api_key_file: str | None, log_level: str, verbose: bool) -> None:
    """Serve plate reading over HTTP: POST /v1/read, GET /health, GET /metrics,
    a web page at /, the API at /docs.

    \b
    curl -s --data-binary @car.jpg -H 'Content-Type: image/jpeg' http://127.0.0.1:8080/v1/read
    curl -s -F image=@car.jpg 'http://127.0.0.1:8080/v1/read?region=us'
    """
    with errors_to_exit(verbose):
        quiet_opencv(verbose)
        from ..errors import require

        uvicorn = require("uvicorn", "serve")
        from ..serve import Settings, create_app, http_protocol, load_keys

        keys = load_keys(api_key_file) if api_key_file else []
        settings = Settings(workers=workers or default_workers(), queue=queue,
                            region=region.lower() if region else None,
                            max_pixels=max_pixels(max_megapixels or DEFAULT_MAX_MEGAPIXELS),
                            max_bytes=max_bytes, keys=keys, body_timeout=body_timeout)
        app = create_app(settings)
        click.echo(f"anpr serve: {settings.workers} reader process(es) on http://{host}:{port}/ "
                   f"(API keys {'required' if keys else 'off'})", err=True)
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False,
                    http=http_protocol(settings))
