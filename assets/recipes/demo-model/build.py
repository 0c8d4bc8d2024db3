"""Single entry point: train every component and export the ONNX model folder.

    /usr/bin/python3 assets/recipes/demo-model/build.py --out assets/models/sd3-demo

Checkpoints and the rendered data set go to --work (default /tmp/demo-train), never into the repo.
A stage whose checkpoint exists is skipped unless --redo names it."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

STAGES = ["data", "text", "embed", "vae", "transformer", "pairs", "vaedec", "refiner", "taesd", "export", "eval"]
OUTPUTS = {"data": "images.npy", "text": "text.pt", "embed": "embeds.pt", "vae": "vae.pt",
           "transformer": "transformer_ema.pt", "pairs": "generated_pairs.pt", "vaedec": "vae_decoder_ft.pt", "refiner": "vae_refiner.pt", "taesd": "taesd.pt"}


def recommended_guidance():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sd3studio.json")) as f:
        return float(json.load(f).get("guidance", 7.0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="assets/models/sd3-demo")
    ap.add_argument("--work", default="/tmp/demo-train")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--redo", default="", help="comma list of stages to rerun even if done")
    ap.add_argument("--transformer-steps", type=int, default=4000)
    ap.add_argument("--shift", type=float, default=1.0, help="scheduler shift written to the model")
    ap.add_argument("--eval-n", type=int, default=96)
    ap.add_argument("--vae-steps", type=int, default=2000)
    ap.add_argument("--pairs", type=int, default=2048, help="generated latents the decoder learns to draw")
    ap.add_argument("--vaedec-steps", type=int, default=1000)
    ap.add_argument("--refiner-steps", type=int, default=800)
    ap.add_argument("--taesd-steps", type=int, default=800)
    ap.add_argument("--vae-lr", type=float, default=1e-3)
    ap.add_argument("--transformer-lr", type=float, default=6e-4)
    ap.add_argument("--prompts-per-batch", type=int, default=8, help="transformer batch = this x 8 images")
    ap.add_argument("--guidance", type=float, default=recommended_guidance(),
                    help="the scale pictures are drawn with (pairs, eval); default: sd3studio.json's, which the studio uses")
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.work, exist_ok=True)
    log = train.Log(os.path.join(a.work, "build.log"))
    redo = set(filter(None, a.redo.split(",")))
    for st in a.stages.split(","):
        out = OUTPUTS.get(st)
        if out and os.path.exists(os.path.join(a.work, out)) and st not in redo and st != "transformer":
            log("skip", st, "(done)")
            continue
        log("stage", st)
        if st == "data":
            train.stage_data(a.work, log)
        elif st == "text":
            train.stage_text(a.work, log)
        elif st == "embed":
            train.stage_embed(a.work, log)
        elif st == "vae":
            train.stage_vae(a.work, log, steps=a.vae_steps, lr_max=a.vae_lr)
        elif st == "transformer":
            train.stage_transformer(a.work, log, steps=a.transformer_steps, resume=st not in redo,
                                    lr_max=a.transformer_lr, prompts_per_batch=a.prompts_per_batch)
        elif st == "pairs":
            train.stage_generated_pairs(a.work, log, n=a.pairs, guidance=a.guidance)
        elif st == "vaedec":
            train.stage_vae_decoder(a.work, log, steps=a.vaedec_steps)
        elif st == "refiner":
            train.stage_refiner(a.work, log, steps=a.refiner_steps)
        elif st == "taesd":
            train.stage_taesd(a.work, log, steps=a.taesd_steps)
        elif st == "export":
            import export
            export.export_all(a.work, a.out, a.shift, log)
        elif st == "eval":
            import evaluate
            evaluate.run(a.work, log, n=a.eval_n, shift=a.shift, guidance=a.guidance)
            evaluate.img2img_check(a.work, log, shift=a.shift)


if __name__ == "__main__":
    main()
