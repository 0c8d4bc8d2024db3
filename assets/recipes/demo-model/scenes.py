"""Synthetic scene domain: caption grammar, palette and a renderer (numpy only)."""
import numpy as np

PALETTE = {
    "red": (230, 30, 30),
    "green": (30, 170, 60),
    "blue": (30, 80, 230),
    "yellow": (240, 220, 40),
    "orange": (245, 140, 20),
    "purple": (140, 50, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
COLOURS = list(PALETTE)
SHAPES = ["circle", "square", "triangle"]
SIZES = ["small", "large"]
POSITIONS = {
    "at the top left": (0.25, 0.25),
    "at the top right": (0.75, 0.25),
    "at the bottom left": (0.25, 0.75),
    "at the bottom right": (0.75, 0.75),
    "in the center": (0.5, 0.5),
}
POSITION_NAMES = list(POSITIONS)
# the words of the grammar (whole tokens in every tokenizer)
WORDS = sorted(set(
    "a on background at the top bottom left right in center".split()
    + COLOURS + SHAPES + SIZES))


def caption(size, colour, shape, position, background):
    return f"a {size} {colour} {shape} {position} on a {background} background"


def all_specs():
    """Every (size, colour, shape, position, background) the grammar allows (1680)."""
    out = []
    for s in SIZES:
        for c in COLOURS:
            for sh in SHAPES:
                for p in POSITION_NAMES:
                    for b in COLOURS:
                        if b != c:
                            out.append((s, c, sh, p, b))
    return out


def random_spec(rng):
    c = COLOURS[rng.integers(len(COLOURS))]
    b = c
    while b == c:
        b = COLOURS[rng.integers(len(COLOURS))]
    return (SIZES[rng.integers(2)], c, SHAPES[rng.integers(3)],
            POSITION_NAMES[rng.integers(5)], b)


# radius (fraction of the image side) of the shape's circumscribing extent
SIZE_RADIUS = {"small": (0.10, 0.13), "large": (0.19, 0.23)}
JITTER = 0.035  # placement jitter around the nominal centre (fraction of side)


def render(spec, rng, size=64, ss=4):
    """Render one scene to uint8 HxWx3 with ss x ss supersampling.

    Returns (image, (cx, cy)) with the nominal centre used (fractions)."""
    sz, colour, shape, pos, bg = spec
    cx, cy = POSITIONS[pos]
    cx += rng.uniform(-JITTER, JITTER)
    cy += rng.uniform(-JITTER, JITTER)
    r = rng.uniform(*SIZE_RADIUS[sz])
    n = size * ss
    coords = (np.arange(n) + 0.5) / n
    X, Y = np.meshgrid(coords, coords)
    if shape == "circle":
        m = (X - cx) ** 2 + (Y - cy) ** 2 <= r * r
    elif shape == "square":
        h = r * 0.85  # half side: square a bit smaller than its circumcircle
        m = (np.abs(X - cx) <= h) & (np.abs(Y - cy) <= h)
    else:
        # upright equilateral triangle whose centroid is (cx, cy), circumradius r*1.1
        R = r * 1.1
        pts = [(cx, cy - R), (cx - R * 0.866, cy + R * 0.5), (cx + R * 0.866, cy + R * 0.5)]
        m = np.ones_like(X, dtype=bool)
        for i in range(3):
            (x1, y1), (x2, y2) = pts[i], pts[(i + 1) % 3]
            m &= ((x2 - x1) * (Y - y1) - (y2 - y1) * (X - x1)) <= 0
    cov = m.reshape(size, ss, size, ss).mean(axis=(1, 3))[..., None]
    fg = np.array(PALETTE[colour], np.float32)
    bgc = np.array(PALETTE[bg], np.float32)
    img = bgc * (1 - cov) + fg * cov
    return np.clip(np.round(img), 0, 255).astype(np.uint8), (cx, cy)


def judge(img, spec, tol=0.17, thresh=60.0, min_frac=0.005):
    """The acceptance judge: returns (ok, details)."""
    sz, colour, shape, pos, bg = spec
    a = img.astype(np.float32)
    H, W, _ = a.shape
    border = np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]], 0)
    bmed = np.median(border, axis=0)
    names = COLOURS
    pal = np.array([PALETTE[c] for c in names], np.float32)

    def nearest(c):
        return names[int(np.argmin(((pal - c) ** 2).sum(1)))]

    d = np.sqrt(((a - bmed) ** 2).sum(-1))
    mask = d > thresh
    frac = mask.mean()
    det = {"bg": nearest(bmed), "frac": float(frac)}
    if frac < min_frac:
        det["why"] = "no object"
        return False, det
    mean = a[mask].mean(0)
    det["fg"] = nearest(mean)
    ys, xs = np.nonzero(mask)
    cx, cy = (xs.mean() + 0.5) / W, (ys.mean() + 0.5) / H
    px, py = POSITIONS[pos]
    det["centroid"] = (round(float(cx), 3), round(float(cy), 3))
    ok = det["bg"] == bg and det["fg"] == colour and abs(cx - px) <= tol and abs(cy - py) <= tol
    return ok, det
