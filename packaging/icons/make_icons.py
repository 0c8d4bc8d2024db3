"""Draws the SD3 Studio icon (our own artwork) and writes every size the app and installers use.

    /usr/bin/python3 packaging/icons/make_icons.py      # needs Pillow; run from the repository root

A rounded square with an evening sky, a sun and two hills: a picture forming out of noise, which
is what the app does. The lower left is still speckled, the upper right is already clean.
"""
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

S = 1024  # drawn large, then scaled down with Lanczos for every size


def lerp(a, b, t):
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def draw():
    sky = Image.new("RGB", (S, S))
    top, bottom = (58, 42, 140), (255, 128, 72)
    px = sky.load()
    for y in range(S):
        c = lerp(top, bottom, y / (S - 1))
        for x in range(S):
            px[x, y] = c
    d = ImageDraw.Draw(sky)
    d.ellipse((560, 250, 820, 510), fill=(255, 236, 170))           # sun
    d.polygon([(0, 760), (260, 560), (520, 730), (760, 600), (1024, 780), (1024, 1024), (0, 1024)],
              fill=(44, 30, 96))                                   # far hills
    d.polygon([(0, 880), (340, 720), (700, 860), (1024, 760), (1024, 1024), (0, 1024)],
              fill=(24, 16, 60))                                   # near hills
    # noise that thins out towards the upper right: the image is still being denoised there
    rnd = random.Random(3)
    noise = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    nd = ImageDraw.Draw(noise)
    for _ in range(5200):
        x, y = rnd.random() * S, rnd.random() * S
        keep = ((S - x) / S * 0.75 + y / S * 0.25) ** 3
        if rnd.random() < keep:
            r = rnd.choice((6, 8, 10, 12))
            v = rnd.randint(0, 255)
            nd.rectangle((x, y, x + r, y + r), fill=(v, v, v, 150))
    sky = Image.alpha_composite(sky.convert("RGBA"), noise)
    mask = Image.new("L", (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle((40, 40, S - 40, S - 40), radius=200, fill=255)
    icon = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    icon.paste(sky, (0, 0), mask.filter(ImageFilter.GaussianBlur(1.5)))
    return icon


def main():
    root = Path(__file__).resolve().parents[2]
    big = draw()
    res = root / "app/src/main/resources/dev/sd3studio/app/icons"
    res.mkdir(parents=True, exist_ok=True)
    for n in (16, 32, 48, 64, 128, 256):
        big.resize((n, n), Image.LANCZOS).save(res / f"sd3studio-{n}.png", optimize=True)
    linux = root / "packaging/linux"
    linux.mkdir(parents=True, exist_ok=True)
    big.resize((512, 512), Image.LANCZOS).save(linux / "sd3studio.png", optimize=True)
    win = root / "packaging/windows"
    win.mkdir(parents=True, exist_ok=True)
    big.resize((256, 256), Image.LANCZOS).save(win / "SD3Studio.ico",
                                               sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


if __name__ == "__main__":
    main()
