"""Draw read plates onto a photo.

Examples
--------
>>> import numpy as np
>>> from anpr.reader import Plate
>>> img = np.zeros((120, 200, 3), np.uint8)
>>> p = Plate("AB123", 0.93, (40, 50, 80, 20), [(40, 50), (120, 50), (120, 70), (40, 70)])
>>> out = annotate(img, [p])
>>> out.shape, bool(out.any()), bool(img.any())      # a copy is drawn on
((120, 200, 3), True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

COLORS = [(0, 220, 0), (0, 200, 255), (255, 160, 0), (220, 0, 220)]
"""BGR colours of the 1st, 2nd, ... plate."""


def _field(p: Any, name: str):
    return p[name] if isinstance(p, dict) else getattr(p, name)


def annotate(image_bgr: np.ndarray, plates: Sequence[Any], *, chars: bool = True) -> np.ndarray:
    """A copy of ``image_bgr`` with each plate's outline, text and confidence drawn.

    Parameters
    ----------
    image_bgr : ndarray
        ``(H, W, 3)`` uint8 BGR (a gray ``(H, W)`` image is converted).
    plates : sequence of Plate or dict
        As returned by `PlateReader.read` (or their ``to_dict()``), best first.
    chars : bool
        Also draw each character's box.

    Returns
    -------
    ndarray
        New ``(H, W, 3)`` uint8 BGR image.
    """
    import cv2

    a = np.asarray(image_bgr)
    if a.ndim == 2:
        out = cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_GRAY2BGR)
    elif a.ndim == 3 and a.shape[2] == 3:
        out = a.astype(np.uint8, copy=True)
    elif a.ndim == 3 and a.shape[2] == 4:
        out = cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_BGRA2BGR)
    else:
        raise ValueError(f"image must be gray (H, W) or BGR (H, W, 3), got shape {a.shape}")
    H, W = out.shape[:2]
    t = max(1, round(max(H, W) / 640))
    for k, p in enumerate(plates):
        color = COLORS[k % len(COLORS)]
        corners = _field(p, "corners")
        if corners is not None and len(corners) == 4:
            pts = np.round(np.asarray(corners, np.float64)).astype(np.int32)
            cv2.polylines(out, [pts], True, color, t + 1)
        else:
            x, y, w, h = _field(p, "box")
            cv2.rectangle(out, (x, y), (x + w, y + h), color, t + 1)
        if chars:
            for c in _field(p, "chars") or []:
                x, y, w, h = _field(c, "box")
                cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), color, 1)
        x, y, w, h = (int(v) for v in _field(p, "box"))
        label = f"{_field(p, 'text')} {float(_field(p, 'confidence')):.2f}"
        scale = 0.5 * t
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, t)
        ty = y - 4 if y - th - base - 4 >= 0 else min(H - 1, y + h + th + 4)
        cv2.rectangle(out, (x, ty - th - base), (x + tw + 4, ty + base), color, -1)
        cv2.putText(out, label, (x + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), t, cv2.LINE_AA)
    return out
