"""Our own tiny tokenizers, written in the real CLIP (vocab.json + merges.txt) and
T5 (tokenizer.json, Unigram) formats, plus pure-Python encoders that reproduce what the
Hugging Face tokenizers pipeline does with those files (for the texts we care about)."""
import json
import os
import re
import unicodedata

from scenes import WORDS

BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2 / CLIP byte -> printable unicode char table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
# CLIP pre-tokenizer regex (letters runs, single digits, punctuation runs, contractions)
CLIP_PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
                      re.IGNORECASE)


class ClipBPE:
    def __init__(self, vocab, merges, pad_token):
        self.vocab = vocab
        self.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        self.bos, self.eos = vocab[BOS], vocab[EOS]
        self.pad_token = pad_token
        self.pad = vocab[pad_token]
        self.cache = {}

    def bpe(self, word):
        """word: string of byte-level chars; returns list of symbols."""
        if word in self.cache:
            return self.cache[word]
        syms = list(word[:-1]) + [word[-1] + "</w>"]
        while len(syms) > 1:
            best, bi = None, -1
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            syms = syms[:bi] + [syms[bi] + syms[bi + 1]] + syms[bi + 2:]
        self.cache[word] = syms
        return syms

    def tokenize(self, text):
        text = unicodedata.normalize("NFC", text)
        text = re.sub(r"\s+", " ", text).lower()
        ids = []
        # added special token (tokenizer_2's "!") is split out before everything else
        parts = [text] if self.pad_token == EOS else text.split(self.pad_token)
        for k, part in enumerate(parts):
            if k > 0:
                ids.append(self.pad)
            for m in CLIP_PAT.findall(part):
                if m in (BOS, EOS):
                    ids.append(self.vocab[m])
                    continue
                w = "".join(B2U[b] for b in m.encode("utf-8"))
                ids.extend(self.vocab.get(s, self.eos) for s in self.bpe(w))
        return ids

    def __call__(self, text, length=77):
        ids = self.tokenize(text)[: length - 2]
        ids = [self.bos] + ids + [self.eos]
        return ids + [self.pad] * (length - len(ids))


def build_clip(words=WORDS):
    """vocab: 256 byte chars, their </w> variants, merge results, then BOS/EOS (like CLIP)."""
    base = list(B2U.values())
    vocab_list = base + [c + "</w>" for c in base]
    merges = []
    tmp = ClipBPE({**{t: i for i, t in enumerate(vocab_list)}, BOS: -1, EOS: -2}, [], EOS)
    for w in words:
        tmp.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        tmp.cache = {}
        syms = tmp.bpe(w)
        while len(syms) > 1:  # merge left to right until the whole word is one symbol
            a, b = syms[0], syms[1]
            merges.append(f"{a} {b}")
            if a + b not in vocab_list:
                vocab_list.append(a + b)
            syms = [a + b] + syms[2:]
    vocab_list += [BOS, EOS]
    vocab = {t: i for i, t in enumerate(vocab_list)}
    return vocab, merges


def clip_config(vocab, pad_bang):
    added = {}
    if pad_bang:
        added[str(vocab["!"])] = {"content": "!", "lstrip": False, "normalized": False, "rstrip": False,
                                  "single_word": False, "special": True}
    added[str(vocab[BOS])] = {"content": BOS, "lstrip": False, "normalized": True, "rstrip": False,
                              "single_word": False, "special": True}
    added[str(vocab[EOS])] = {"content": EOS, "lstrip": False, "normalized": False, "rstrip": False,
                              "single_word": False, "special": True}
    pad = "!" if pad_bang else EOS
    cfg = {"add_prefix_space": False, "added_tokens_decoder": added, "bos_token": BOS,
           "clean_up_tokenization_spaces": True, "do_lower_case": True, "eos_token": EOS,
           "errors": "replace", "model_max_length": 77, "pad_token": pad,
           "tokenizer_class": "CLIPTokenizer", "unk_token": EOS}

    def tok(c, norm):
        return {"content": c, "lstrip": False, "normalized": norm, "rstrip": False, "single_word": False}
    stm = {"bos_token": tok(BOS, True), "eos_token": tok(EOS, False), "pad_token": tok(pad, False),
           "unk_token": tok(EOS, False)}
    return cfg, stm


# ---------------------------------------------------------------- T5 (Unigram)
T5_CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;()/&%+*=#@[]<>_")
META = "\u2581"


def build_t5(words=WORDS):
    vocab = [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], [META, -4.0]]
    for w in words:
        vocab.append([META + w, -2.0])
    for c in T5_CHARS:
        vocab.append([c, -8.0])
        vocab.append([META + c, -8.5])
    return vocab


class T5Unigram:
    def __init__(self, vocab):
        self.pieces = {p: (i, s) for i, (p, s) in enumerate(vocab) if i > 2}
        self.maxlen = max(len(p) for p in self.pieces)
        self.unk_score = min(s for _, s in vocab) - 10.0

    def normalize(self, text):
        text = unicodedata.normalize("NFKC", text).lower()
        text = re.sub(r"\s+", " ", text).strip()
        return text

    def encode_word(self, w):
        n = len(w)
        best = [(-1e30, -1, -1)] * (n + 1)  # (score, start, id)
        best[0] = (0.0, -1, -1)
        for end in range(1, n + 1):
            for start in range(max(0, end - self.maxlen), end):
                p = w[start:end]
                if p in self.pieces:
                    i, s = self.pieces[p]
                elif end - start == 1:
                    i, s = 2, self.unk_score
                else:
                    continue
                sc = best[start][0] + s
                if sc > best[end][0]:
                    best[end] = (sc, start, i)
        ids, e = [], n
        while e > 0:
            ids.append(best[e][2])
            e = best[e][1]
        ids.reverse()
        out = []
        for i in ids:  # fuse consecutive unknowns like tokenizers' Unigram
            if i == 2 and out and out[-1] == 2:
                continue
            out.append(i)
        return out

    def tokenize(self, text):
        text = self.normalize(text)
        if not text:
            return []
        ids = []
        for w in text.split(" "):
            ids.extend(self.encode_word(META + w))
        return ids

    def __call__(self, text, length=256):
        ids = self.tokenize(text)[: length - 1] + [1]
        return ids + [0] * (length - len(ids))


def t5_files(vocab):
    def added(i, c):
        return {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<pad>"), added(1, "</s>"), added(2, "<unk>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}},
                                    {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 2, "vocab": vocab, "byte_fallback": False},
    }

    def dec(c):
        return {"content": c, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                "special": True}
    cfg = {"add_prefix_space": True,
           "added_tokens_decoder": {"0": dec("<pad>"), "1": dec("</s>"), "2": dec("<unk>")},
           "additional_special_tokens": [], "clean_up_tokenization_spaces": True, "eos_token": "</s>",
           "extra_ids": 0, "legacy": True, "model_max_length": 512, "pad_token": "<pad>",
           "tokenizer_class": "T5Tokenizer", "unk_token": "<unk>"}

    def tok(c):
        return {"content": c, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    stm = {"eos_token": tok("</s>"), "pad_token": tok("<pad>"), "unk_token": tok("<unk>")}
    return tj, cfg, stm


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_all(out):
    """Write tokenizer/, tokenizer_2/ (pad '!'), tokenizer_3/ into the model folder."""
    vocab, merges = build_clip()
    for sub, bang in (("tokenizer", False), ("tokenizer_2", True)):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
        cfg, stm = clip_config(vocab, bang)
        dump(cfg, os.path.join(d, "tokenizer_config.json"))
        dump(stm, os.path.join(d, "special_tokens_map.json"))
    d = os.path.join(out, "tokenizer_3")
    os.makedirs(d, exist_ok=True)
    tj, cfg, stm = t5_files(build_t5())
    dump(tj, os.path.join(d, "tokenizer.json"))
    dump(cfg, os.path.join(d, "tokenizer_config.json"))
    dump(stm, os.path.join(d, "special_tokens_map.json"))


def load_all(out=None):
    """Tokenizer objects (built in memory; identical to the files written by write_all)."""
    vocab, merges = build_clip()
    return ClipBPE(vocab, merges, EOS), ClipBPE(vocab, merges, "!"), T5Unigram(build_t5())


if __name__ == "__main__":
    import sys
    from scenes import caption, all_specs
    cl, cg, t5 = load_all()
    print("clip vocab", len(cl.vocab), "merges", len(cl.ranks), "t5 vocab", len(build_t5()))
    for s in all_specs():
        c = caption(*s)
        a, b, t = cl(c), cg(c), t5(c)
        n = len(c.split())
        assert a[n + 1] == cl.eos and all(x < len(cl.vocab) - 2 and x >= 256 for x in a[1:n + 1]), (c, a)
        assert b[:n + 2] == a[:n + 2] and b[n + 2:] == [0] * (75 - n), b
        assert t[n] == 1 and all(x > 3 for x in t[:n]) and t[n + 1:] == [0] * (255 - n), t
    print(cl("a large red circle in the center on a blue background")[:16])
    print(cg("")[:5], t5("")[:3], t5("Hello,  World! xyz")[:12], cl("Hello wow!!")[:8], cg("wow!!")[:6])
    if len(sys.argv) > 1:
        write_all(sys.argv[1])
