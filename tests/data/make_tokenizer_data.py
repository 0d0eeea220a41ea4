"""Writes tests/data/tokenizers/: small BPE tokenizers trained with Hugging Face `tokenizers` on
corpus.txt, and the ids and texts that library produces, for the C++ tokenizer's parity tests.

  pip install tokenizers && python3 tests/data/make_tokenizer_data.py tests/data/tokenizers

- llama3_style/: Llama-3's configuration (its pre-tokenizer regex as Split(Isolated), then
  ByteLevel without its own regex; ignore_merges with a few whole-word vocab entries that the merges
  cannot build; the five Llama-3 special tokens as added tokens past the vocab; TemplateProcessing
  adding <|begin_of_text|>; ByteLevel decoder), plus tokenizer_config.json and generation_config.json.
- gpt2_pairs/, gpt2_strings/: GPT-2's configuration (ByteLevel pre-tokenizer with its own regex), the
  same model with merges written as ["a", "b"] pairs and as "a b" strings; <|endoftext|> special, and
  non-special added tokens using lstrip, single_word and normalized matching.
- qwen2_style/: Qwen2's configuration (NFC normalizer, its pre-tokenizer regex as Split(Isolated) then
  ByteLevel, <|endoftext|> <|im_start|> <|im_end|> special, a normalized added word with a composed
  character, ByteLevel post-processor and decoder).
- expected_ids.json: every corpus line, the whole corpus and a few whitespace cases, each encoded
  with and without special tokens and decoded (with and without skipping specials) by the library;
  invalid UTF-8 inputs (as hex) encoded after bytes.decode(errors="replace"); decodes of byte tokens
  that are not valid UTF-8.
"""
import json
import os
import sys

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors,
                        trainers)

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/tokenizers"
corpus = open(os.path.join(out, "corpus.txt"), encoding="utf-8").read()
lines = corpus.split("\n")[:-1]
texts = lines + [corpus, "\n\n\n", "a\r\nb\r\n\r\n", "   ", "x   \n  y\n", "", "ſ's I'M", "x\t\t\n\t y"]

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
               r"|\s+(?!\S)|\s+")
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"]


def train(tok, vocab_size):
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines * 3, trainer)


def llama3_style():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    train(tok, 900)
    # Whole words the merges split into 3+ pieces become single vocab entries: only ignore_merges
    # (looking the pre-token up before merging) finds them.
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    words = []
    for line in lines:
        for piece, _ in tok.pre_tokenizer.pre_tokenize_str(line):
            if piece not in vocab and piece not in words and len(tok.model.tokenize(piece)) >= 3:
                words.append(piece)
    for word in words[:6]:
        vocab[word] = len(vocab)
    spec["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in LLAMA3_SPECIALS])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tok


def qwen2_style():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    train(tok, 800)
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    tok.add_tokens([AddedToken("\u00c5ngstr\u00f6m", normalized=True, special=False)])
    return tok


def gpt2_style():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    train(tok, 1000)
    tok.add_special_tokens([AddedToken("<|endoftext|>", normalized=False, special=True)])
    tok.add_tokens([AddedToken("[SLIDE]", lstrip=True, normalized=False, special=False),
                    AddedToken("tok", single_word=True, normalized=True, special=False),
                    AddedToken("sparse tokens", normalized=True, special=False)])
    return tok


def save(tok, name, string_merges=False):
    """Writes NAME/tokenizer.json and returns the tokenizer read back from it (so the expected values
    come from the library's reading of the committed file)."""
    spec = json.loads(tok.to_str())
    if string_merges:
        spec["model"]["merges"] = [" ".join(m) for m in spec["model"]["merges"]]
    os.makedirs(os.path.join(out, name), exist_ok=True)
    path = os.path.join(out, name, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return Tokenizer.from_file(path)


def expected(tok):
    return {
        "ids": [tok.encode(t).ids for t in texts],
        "ids_no_special": [tok.encode(t, add_special_tokens=False).ids for t in texts],
        "decoded": [tok.decode(tok.encode(t).ids, skip_special_tokens=False) for t in texts],
        "decoded_skip_special": [tok.decode(tok.encode(t).ids, skip_special_tokens=True) for t in texts],
    }


gpt2 = gpt2_style()
tokenizers = {"llama3_style": save(llama3_style(), "llama3_style"), "gpt2_pairs": save(gpt2, "gpt2_pairs"),
              "gpt2_strings": save(gpt2, "gpt2_strings", string_merges=True),
              "qwen2_style": save(qwen2_style(), "qwen2_style")}

# GPT-2's byte -> printable character table, to name the single-byte tokens.
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs = bs[:]
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + len(cs) - 188)
byte_char = {b: chr(c) for b, c in zip(bs, cs)}

invalid_inputs = [b"ab\xffcd", b"\xe4\xb8", b"caf\xc3", b"\xc3\x28 x", b"\xed\xa0\x80 surrogate", b"\xf0\x9f\x98 broken emoji",
                  b"\x80\x80\x80", b"<|eot_id|\xff>", b"ok \xf4\x90\x80\x80 beyond"]
bad_byte_tokens = [b"\xe4", b"\xe4\xb8", b"\xff", b"a\x80b", b"\xf0\x9f\x98\x80\xf0\x9f"]

result = {"texts": texts, "tokenizers": {}}
for name, tok in tokenizers.items():
    e = expected(tok)
    e["invalid_utf8"] = [{"hex": raw.hex(), "ids": tok.encode(raw.decode("utf-8", errors="replace")).ids}
                         for raw in invalid_inputs]
    e["byte_token_decodes"] = []
    for raw in bad_byte_tokens:
        ids = [tok.token_to_id(byte_char[b]) for b in raw]
        e["byte_token_decodes"].append({"ids": ids, "text": tok.decode(ids)})
    result["tokenizers"][name] = e

with open(os.path.join(out, "expected_ids.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False, indent=None, separators=(",", ":"))
    f.write("\n")

llama = tokenizers["llama3_style"]
special = {str(llama.token_to_id(t)): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                        "single_word": False, "special": True} for t in LLAMA3_SPECIALS}
config = {
    "added_tokens_decoder": special,
    "bos_token": "<|begin_of_text|>",
    "eos_token": {"__type": "AddedToken", "content": "<|eot_id|>", "lstrip": False, "normalized": False,
                  "rstrip": False, "single_word": False},
    "add_bos_token": True,
    "chat_template": "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
                     " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}",
    "clean_up_tokenization_spaces": True,
    "model_max_length": 131072,
    "tokenizer_class": "PreTrainedTokenizerFast",
}
with open(os.path.join(out, "llama3_style", "tokenizer_config.json"), "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
generation = {"bos_token_id": llama.token_to_id("<|begin_of_text|>"),
              "eos_token_id": [llama.token_to_id("<|end_of_text|>"), llama.token_to_id("<|eot_id|>")],
              "do_sample": True, "temperature": 0.6}
with open(os.path.join(out, "llama3_style", "generation_config.json"), "w", encoding="utf-8") as f:
    json.dump(generation, f, indent=2)
    f.write("\n")
for name, tok in tokenizers.items():
    print(f"{name}: vocab {tok.get_vocab_size()}")
