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
SIZE_RADIUS = {"small": (0.08, 0.135), "large": (0.17, 0.25)}
JITTER = 0.11  # placement jitter around the nominal centre (fraction of side)
SHADE = 22.0  # per-channel shade variation of the object colour (RGB units); background: half of it
MARGIN = 1.5 / 64  # shapes stay this far inside the picture (a cut-off shape has no clear geometry)


def extent(shape, r):
    """(left, right, up, down) reach of the shape from its centre (fractions)."""
    if shape == "circle":
        return r, r, r, r
    if shape == "square":
        h = r * 0.85
        return h, h, h, h
    R = r * 1.1
    return R * 0.866, R * 0.866, R, R * 0.5


def render(spec, rng, size=64, ss=4):
    """Render one scene to uint8 HxWx3 with ss x ss supersampling.

    The centre is jittered around the nominal position and then moved inwards where needed so the
    whole shape stays inside the picture. Returns (image, (cx, cy)) with the centre used (fractions)."""
    sz, colour, shape, pos, bg = spec
    cx, cy = POSITIONS[pos]
    cx += rng.uniform(-JITTER, JITTER)
    cy += rng.uniform(-JITTER, JITTER)
    r = rng.uniform(*SIZE_RADIUS[sz])
    left, right, up, down = extent(shape, r)
    cx = min(max(cx, left + MARGIN), 1 - right - MARGIN)
    cy = min(max(cy, up + MARGIN), 1 - down - MARGIN)
    # supersample only the pixels of the shape's bounding box (the rest is background)
    x0, x1 = max(int((cx - left) * size) - 1, 0), min(int((cx + right) * size) + 2, size)
    y0, y1 = max(int((cy - up) * size) - 1, 0), min(int((cy + down) * size) + 2, size)
    n = size * ss
    X, Y = np.meshgrid((np.arange(x0 * ss, x1 * ss) + 0.5) / n, (np.arange(y0 * ss, y1 * ss) + 0.5) / n)
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
            (x1_, y1_), (x2_, y2_) = pts[i], pts[(i + 1) % 3]
            m &= ((x2_ - x1_) * (Y - y1_) - (y2_ - y1_) * (X - x1_)) <= 0
    cov = np.zeros((size, size, 1), np.float32)
    cov[y0:y1, x0:x1, 0] = m.reshape(y1 - y0, ss, x1 - x0, ss).mean(axis=(1, 3))
    fg = np.array(PALETTE[colour], np.float32) + rng.uniform(-SHADE, SHADE, 3)
    bgc = np.array(PALETTE[bg], np.float32) + rng.uniform(-SHADE / 2, SHADE / 2, 3)
    img = bgc * (1 - cov) + fg * cov
    return np.clip(np.round(img), 0, 255).astype(np.uint8), (cx, cy)


def coverage(a, bg, fg):
    """Per-pixel share of the object colour: projection of (pixel - background) onto
    (object - background), clipped to [0, 1]; antialiased edges count partly."""
    d = fg - bg
    return np.clip(((a - bg) * d).sum(-1) / max(float((d * d).sum()), 1.0), 0, 1)


def geometry(cov):
    """Shape measures from a coverage map: fill = area / (width * height), where width is the
    widest row and height the tallest column (in object pixels), and top = share of the area in
    the upper half of that box. Ideal values: circle fill pi/4, top 0.5; square fill 1, top 0.5;
    upright triangle fill 0.5, top 0.25."""
    area = float(cov.sum())
    w = float(cov.sum(1).max())
    h = float(cov.sum(0).max())
    ys = np.nonzero(cov.sum(1) > 0.25)[0]
    top = 0.0
    if len(ys):
        mid = (ys[0] + ys[-1] + 1) / 2.0
        rows = cov.sum(1)
        r = np.arange(len(rows)) + 0.5
        top = float((rows * np.clip(mid - (r - 0.5), 0, 1)).sum() / max(area, 1e-6))
    return {"fill": area / max(w * h, 1e-6), "top": top, "w": w, "h": h}


# Shape rule (thresholds from measured renders, see README): triangle = top < 0.38 and fill < 0.74;
# circle = 0.69 <= fill < 0.89 and square = fill >= 0.89, both with 0.40 <= top <= 0.60.
# Exact renders: circle fill 0.77-0.81, square 1.00, triangle 0.52-0.61 (top 0.23-0.32, others
# 0.45-0.55); a soft-cornered triangle measures about 0.70, a square with rounded corners 0.90-0.94.
FILL_CIRCLE, FILL_SQUARE, FILL_TRIANGLE_MAX = 0.69, 0.89, 0.74
TOP_TRIANGLE, TOP_LOW, TOP_HIGH = 0.38, 0.40, 0.60


def shape_of(g):
    if g["top"] < TOP_TRIANGLE and g["fill"] < FILL_TRIANGLE_MAX:
        return "triangle"
    if not (TOP_LOW <= g["top"] <= TOP_HIGH) or g["fill"] < FILL_CIRCLE:
        return "unclear"
    return "square" if g["fill"] >= FILL_SQUARE else "circle"


def analyse(img, thresh=60.0):
    """Background, object mask, mean object colour and geometry of a picture (None if no object)."""
    a = img.astype(np.float32)
    border = np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]], 0)
    bmed = np.median(border, axis=0)
    mask = largest_component(np.sqrt(((a - bmed) ** 2).sum(-1)) > thresh)
    out = {"bg_rgb": bmed, "mask": mask, "frac": float(mask.mean())}
    if mask.any():
        # object colour from its inner pixels (edges are mixed with the background)
        far = np.sqrt(((a - bmed) ** 2).sum(-1))
        inner = far >= np.percentile(far[mask], 50)
        out["fg_rgb"] = a[mask & inner].mean(0)
        # only the object and the pixel ring around it (its antialiased edge) count: background
        # noise elsewhere would otherwise add area and stretch the box
        cov = coverage(a, bmed, out["fg_rgb"]) * dilate(mask)
        out["cov"] = cov
        out["geometry"] = geometry(cov)
    return out


def largest_component(mask):
    """The largest 8-connected part of the mask (stray pixels elsewhere are not the object)."""
    H, W = mask.shape
    label = np.zeros((H, W), np.int32)
    best, best_n, n_labels = 0, 0, 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if label[y0, x0]:
            continue
        n_labels += 1
        label[y0, x0] = n_labels
        stack, n = [(y0, x0)], 0
        while stack:
            y, x = stack.pop()
            n += 1
            for yy in range(max(y - 1, 0), min(y + 2, H)):
                for xx in range(max(x - 1, 0), min(x + 2, W)):
                    if mask[yy, xx] and not label[yy, xx]:
                        label[yy, xx] = n_labels
                        stack.append((yy, xx))
        if n > best_n:
            best, best_n = n_labels, n
    return label == best if best_n else mask


def dilate(mask):
    """The mask grown by one pixel (8-neighbourhood)."""
    p = np.pad(mask, 1)
    H, W = mask.shape
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= p[dy:dy + H, dx:dx + W]
    return out


def nearest_colour(c):
    pal = np.array([PALETTE[n] for n in COLOURS], np.float32)
    return COLOURS[int(np.argmin(((pal - c) ** 2).sum(1)))]


def judge(img, spec, tol=0.17, thresh=60.0, min_frac=0.005):
    """The acceptance judge: returns (ok, details). Background, object colour and centroid as
    before, and the shape by its geometry (shape_of)."""
    sz, colour, shape, pos, bg = spec
    a = img.astype(np.float32)
    H, W, _ = a.shape
    an = analyse(img, thresh)
    mask = an["mask"]
    det = {"bg": nearest_colour(an["bg_rgb"]), "frac": an["frac"]}
    if an["frac"] < min_frac:
        det["why"] = "no object"
        return False, det
    det["fg"] = nearest_colour(an["fg_rgb"])
    ys, xs = np.nonzero(mask)
    cx, cy = (xs.mean() + 0.5) / W, (ys.mean() + 0.5) / H
    px, py = POSITIONS[pos]
    det["centroid"] = (round(float(cx), 3), round(float(cy), 3))
    g = an["geometry"]
    det["fill"], det["top"] = round(g["fill"], 3), round(g["top"], 3)
    det["shape"] = shape_of(g)
    ok = (det["bg"] == bg and det["fg"] == colour and abs(cx - px) <= tol and abs(cy - py) <= tol
          and det["shape"] == shape)
    return ok, det


def spread(imgs):
    """How much pictures of one prompt differ: the largest distance of one picture's (centroid x,
    centroid y, size = sqrt(object area share)) from their mean, in fractions of the side."""
    pts = []
    for im in imgs:
        an = analyse(im)
        if not an["mask"].any():
            continue
        ys, xs = np.nonzero(an["mask"])
        H, W = an["mask"].shape
        pts.append(((xs.mean() + 0.5) / W, (ys.mean() + 0.5) / H, np.sqrt(an["cov"].sum() / (H * W))))
    if len(pts) < 2:
        return 0.0
    p = np.array(pts)
    return float(np.sqrt(((p - p.mean(0)) ** 2).sum(1)).max())
