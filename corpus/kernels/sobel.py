# braid: entry=sobel
# braid: preset tiny H=9 W=13
# braid: preset default H=2500 W=2600
# braid: targets cpu
"""Sobel edge magnitude of a uint8 grey image, DaCe dialect: float32 gradients from shifted
slices, hypot, scaled to the maximum, clipped and quantized back to uint8 (border pixels 0)."""

import numpy as np
import dace as dc

H = dc.symbol("H")
W = dc.symbol("W")


@dc.program
def sobel(img: dc.uint8[H, W]):
    f = img.astype(np.float32)
    gx = (f[:-2, 2:] + 2 * f[1:-1, 2:] + f[2:, 2:]) - (f[:-2, :-2] + 2 * f[1:-1, :-2] + f[2:, :-2])
    gy = (f[2:, :-2] + 2 * f[2:, 1:-1] + f[2:, 2:]) - (f[:-2, :-2] + 2 * f[:-2, 1:-1] + f[:-2, 2:])
    mag = np.hypot(gx, gy)
    scaled = mag * (255 / np.max(mag))
    out = np.zeros((H, W), dtype=np.uint8)
    out[1:-1, 1:-1] = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return out


def initialize(H, W):
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:H, 0:W]
    img = 128 + 80 * np.sin(x / 7.0) * np.cos(y / 11.0) + 20 * rng.standard_normal((H, W))
    return {"img": np.clip(img, 0, 255).astype(np.uint8)}
