"""Writes tests/data/tokenizers/random_ids.json: random texts (a fixed seed) mixing what the
pre-tokenizer rules and the normalizer treat specially (contractions in any case, digit runs,
whitespace runs with CR/LF and tabs, punctuation runs, Latin with precomposed and combining
diacritics, CJK, Hangul, emoji with joiners and modifiers, characters outside the BMP, special-token
strings), each encoded with and without special tokens and decoded by Hugging Face `tokenizers` with
the committed tokenizer.json files of tests/data/tokenizers (no training: the fixtures stay as they
are), for the C++ tokenizer's parity test on inputs nobody chose by hand.

  pip install tokenizers && python3 tests/data/make_random_tokenizer_texts.py tests/data/tokenizers
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/tokenizers"
NAMES = ["llama3_style", "gpt2_pairs", "gpt2_strings", "qwen2_style"]
POOLS = [
    list("abcXYZ hello world The the"),
    ["'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'D", "'", "''", "n't"],
    ["0", "7", "12", "345", "6789", "2024", "3.14", "1,000"],
    [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000"],
    list(".,;:!?-()[]{}<>/\\\"#$%&*+=@^_`|~"),
    ["é", "ö", "ß", "Ł", "ñ", "ç", "å", "ø", "e\u0301", "o\u0308", "c\u0327", "\u0301", "\u0308", "ſ", "İ",
     "ǅ"],
    ["ふ", "り", "が", "な", "漢", "字", "한", "글", "。", "、", "「", "」"],
    ["😀", "👍", "👍🏽", "👩\u200d👩\u200d👧", "❤\ufe0f", "\U00010348", "\U0001d11e", "🇩🇪"],
    ["<|endoftext|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|endoftext", "<|"],
]


def random_text(rng):
    pieces = []
    for _ in range(rng.randrange(0, 24)):
        pool = POOLS[rng.randrange(len(POOLS))]
        pieces.append(pool[rng.randrange(len(pool))])
    return "".join(pieces)


rng = random.Random(2026)
texts = [random_text(rng) for _ in range(250)]
result = {"texts": texts, "tokenizers": {}}
for name in NAMES:
    tok = Tokenizer.from_file(os.path.join(out, name, "tokenizer.json"))
    entry = {"ids": [], "ids_no_special": [], "decoded_skip_special": []}
    for text in texts:
        ids = tok.encode(text).ids
        entry["ids"].append(ids)
        entry["ids_no_special"].append(tok.encode(text, add_special_tokens=False).ids)
        entry["decoded_skip_special"].append(tok.decode(ids, skip_special_tokens=True))
    result["tokenizers"][name] = entry
with open(os.path.join(out, "random_ids.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
