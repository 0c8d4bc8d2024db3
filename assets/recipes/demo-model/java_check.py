"""Optional: run the real engine (`sd3studio generate`, default options) on random grammar prompts and
apply the judge to its PNGs.  Usage: java_check.py MODEL_DIR N [SEED]  (needs the built app jar)."""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def main():
    model, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 31337
    java = os.environ.get("SD3_JAVA", "java")
    cp = f"{ROOT}/app/target/sd3studio-app-0.1.0-SNAPSHOT.jar:{ROOT}/app/target/lib/*"
    rng = np.random.default_rng(seed)
    out_dir = "/tmp/demo-train/java"
    os.makedirs(out_dir, exist_ok=True)
    ok = 0
    for i in range(n):
        spec = scenes.random_spec(rng)
        s = int(rng.integers(0, 2 ** 31 - 1))
        png = os.path.join(out_dir, f"{i:03d}.png")
        cmd = [java, "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true", f"-Dsd3studio.home={ROOT}",
               "-cp", cp, "dev.sd3studio.app.Main", "generate", "--model", model,
               "--prompt", scenes.caption(*spec), "--seed", str(s), "--out", png]
        subprocess.run(cmd, check=True, capture_output=True)
        good, det = scenes.judge(np.array(Image.open(png).convert("RGB")), spec)
        ok += good
        print(("PASS" if good else "FAIL"), s, scenes.caption(*spec), det, flush=True)
    print(f"engine judge accuracy {ok}/{n}")


if __name__ == "__main__":
    main()
