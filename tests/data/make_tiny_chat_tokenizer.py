"""Writes tests/data/tokenizers/tiny_chat/: a byte-level BPE tokenizer small enough for the tiny test
checkpoints (vocab 512: ids < 500 here), with a ChatML chat template, for the server's and
`generate --text`'s tests. Special tokens take the ids the tiny model's config names: <|pad|> 0,
<|bos|> 1 (bos_token_id), <|im_end|> 2 (eos_token_id), <|im_start|> 3.

  pip install tokenizers && python3 tests/data/make_tiny_chat_tokenizer.py tests/data/tokenizers
"""
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

out_root = sys.argv[1] if len(sys.argv) > 1 else "tests/data/tokenizers"
corpus = open(os.path.join(out_root, "corpus.txt"), encoding="utf-8").read().split("\n")
out = os.path.join(out_root, "tiny_chat")
os.makedirs(out, exist_ok=True)

specials = ["<|pad|>", "<|bos|>", "<|im_end|>", "<|im_start|>"]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=specials,
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train_from_iterator(corpus * 4, trainer)
tok.post_processor = processors.TemplateProcessing(single="<|bos|> $A", special_tokens=[("<|bos|>", 1)])
assert [tok.token_to_id(s) for s in specials] == [0, 1, 2, 3]
assert tok.get_vocab_size() <= 512
tok.save(os.path.join(out, "tokenizer.json"))

chatml = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
json.dump({"bos_token": "<|bos|>", "eos_token": "<|im_end|>", "pad_token": "<|pad|>", "chat_template": chatml,
           "tokenizer_class": "PreTrainedTokenizerFast"}, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
json.dump({"bos_token_id": 1, "eos_token_id": [2]}, open(os.path.join(out, "generation_config.json"), "w"), indent=2)

# What the Python library makes of a few texts, for the tests to compare with.
samples = ["Hello, world!", "héllo wörld 123", "ふりがな ok"]
json.dump({"samples": [{"text": t, "ids": tok.encode(t).ids} for t in samples]},
          open(os.path.join(out, "expected.json"), "w"), indent=2, ensure_ascii=False)
print("wrote", out, "vocab", tok.get_vocab_size())
