#!/usr/bin/env python3
"""Writes tokenizer.json, tokenizer_config.json and generation_config.json into a synthetic checkpoint
(`slidesparse synth`, which has none) so that text commands (`generate --text`, `serve`) run on it:
a byte-level BPE whose vocabulary is the 256 byte symbols followed by one placeholder token per
remaining id ("<t123>", text that names the id), so every id the model can sample decodes to
distinct text; ChatML chat template. Standard library only.

  scripts/make_placeholder_tokenizer.py MODEL_DIR
"""
import json
import os
import sys


def byte_symbols():
    # GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map past U+0100.
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, n = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(keep, chars))]


def main():
    model = sys.argv[1]
    config = json.load(open(os.path.join(model, "config.json")))
    vocab_size = int(config["vocab_size"])
    eos = config.get("eos_token_id", vocab_size - 1)
    eos = eos[0] if isinstance(eos, list) else eos
    bos = config.get("bos_token_id", vocab_size - 2)
    vocab = {s: i for i, s in enumerate(byte_symbols())}
    specials = {bos: "<|begin_of_text|>", eos: "<|end_of_text|>"}
    for i in range(256, vocab_size):
        if i not in specials:
            vocab[f"<t{i}>"] = i
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, c in sorted(specials.items())]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [bos],
                                                                    "tokens": ["<|begin_of_text|>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }
    json.dump(tokenizer, open(os.path.join(model, "tokenizer.json"), "w"), ensure_ascii=False)
    chatml = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
              "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "chat_template": chatml},
              open(os.path.join(model, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"bos_token_id": bos, "eos_token_id": [eos]}, open(os.path.join(model, "generation_config.json"), "w"),
              indent=2)
    print(f"placeholder tokenizer: {vocab_size} ids ({model})")


if __name__ == "__main__":
    main()
