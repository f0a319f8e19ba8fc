"""Videos built from real photos, for the read-video tests (no video data needed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def approach(photo: np.ndarray, n: int, size: tuple[int, int], zoom: float = 1.25, blur_every: int = 7):
    """``n`` frames of ``photo`` zooming in slowly and panning a little, as a car
    approaching a camera would look; every ``blur_every``-th frame is motion-blurred."""
    h, w = photo.shape[:2]
    W, H = size
    out = []
    for k in range(n):
        t = k / max(1, n - 1)
        s = 1.0 + (zoom - 1.0) * t
        cw, ch = w / s, h / s
        cx = w / 2 + (w - cw) / 2 * 0.3 * (t - 0.5)
        cy = h / 2 + (h - ch) / 2 * 0.2 * (0.5 - t)
        m = np.float32([[W / cw, 0, -(cx - cw / 2) * W / cw], [0, H / ch, -(cy - ch / 2) * H / ch]])
        frame = cv2.warpAffine(photo, m, (W, H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        if blur_every and k % blur_every == blur_every - 1:
            kernel = np.zeros((1, 9), np.float32)
            kernel[0, :] = 1 / 9
            frame = cv2.filter2D(frame, -1, kernel)
        out.append(frame)
    return out


def write_video(path: Path, photos: list[np.ndarray], seconds: float = 2.0, fps: int = 10,
                size: tuple[int, int] = (960, 540)) -> Path:
    """Each photo shown ``seconds`` at ``fps`` in an MP4 (mp4v) video."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4v video here")
    for photo in photos:
        for frame in approach(photo, int(round(seconds * fps)), size):
            writer.write(frame)
    writer.release()
    return path


class MjpegStream:
    """A camera on loopback: serves ``frames`` as an MJPEG stream (``multipart/x-mixed-
    replace``, what many IP cameras send) at ``fps``, then ends the stream."""

    def __init__(self, frames: list[np.ndarray], fps: float = 10.0):
        import http.server
        import threading
        import time

        jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for f in frames]

        stream = self
        self.connections = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                stream.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                t0 = time.monotonic()
                try:
                    for k, data in enumerate(jpegs):
                        delay = t0 + k / fps - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
