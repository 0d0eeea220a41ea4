"""Writes the loader fixtures under tests/data with transformers itself (run on the GPU machine, where
torch + transformers live; nothing in the project's runtime uses Python).

  python3 tests/data/make_transformers_fixtures.py tests/data

Outputs:
  tiny_bitnet_bf16/      BitNetForCausalLM saved by save_pretrained (bf16 latent weights, tied embeddings)
  tiny_bitnet_packed/    the released inference layout: ternary weights packed by transformers' pack_weights
                         into uint8 [ceil(N/4), K] + bf16 weight_scale (= 1/absmean, divides the output);
                         loaded back through BitNetForCausalLM.from_pretrained to prove transformers accepts it
  tiny_bitnet_expected.safetensors
      <linear>.ternary  I8   transformers' WeightQuant ternary values of the bf16 weight
      <linear>.absmean  F32  the absmean scale s (WeightQuant computes 1/s)
      <linear>.unpacked I8   transformers' unpack_weights() of the packed tensor
      packing.N{n}.ternary / packing.N{n}.packed: pack_weights on odd row counts
      oracle.input_ids I32 [B, T], oracle.logits F32 [B, T, V]: AutoBitLinear(online_quant) forward
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file, load_file
from transformers import BitNetConfig, BitNetForCausalLM
from transformers.integrations import bitnet as tb

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
torch.manual_seed(1234)
dev = "cuda" if torch.cuda.is_available() else "cpu"

cfg = BitNetConfig(
    vocab_size=512, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, hidden_act="relu2", max_position_embeddings=256,
    rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0)
model = BitNetForCausalLM(cfg).to(torch.bfloat16)
with torch.no_grad():
    for name, p in model.named_parameters():
        if "norm" in name:
            p.copy_((1.0 + 0.1 * torch.randn_like(p.float())).to(p.dtype))
bf16_dir = os.path.join(out, "tiny_bitnet_bf16")
model.save_pretrained(bf16_dir)
for extra in ("generation_config.json",):
    path = os.path.join(bf16_dir, extra)
    if os.path.exists(path):
        os.remove(path)

sd = load_file(os.path.join(bf16_dir, "model.safetensors"))
expected = {}
packed_sd = {}
orig = lambda f: getattr(f, "_torchdynamo_orig_callable", f)
linears = [k for k in sd if k.endswith("_proj.weight")]
for name, w in sd.items():
    if name not in linears:
        packed_sd[name] = w.clone()
        continue
    x = w.float()
    s_inv = 1.0 / x.abs().mean().clamp_(min=1e-5)  # WeightQuant.forward, step by step
    tern = (x * s_inv).round().clamp(-1, 1)
    deq = orig(tb.WeightQuant.forward)(None, w)
    assert torch.equal(deq, (tern / s_inv).to(w.dtype)), name
    base = name[: -len(".weight")]
    expected[base + ".ternary"] = tern.to(torch.int8)
    expected[base + ".absmean"] = (1.0 / s_inv).reshape(1).to(torch.float32)
    packed = tb.pack_weights(tern.to(torch.int8).clone())
    packed_sd[name] = packed
    packed_sd[base + ".weight_scale"] = s_inv.reshape(1).to(torch.bfloat16)
    expected[base + ".unpacked"] = orig(tb.unpack_weights)(packed, dtype=torch.int8)

for n in (1, 7, 10, 13):
    t = torch.randint(-1, 2, (n, 6), dtype=torch.int8)
    expected[f"packing.N{n}.ternary"] = t.clone()
    expected[f"packing.N{n}.packed"] = tb.pack_weights(t.clone())

packed_dir = os.path.join(out, "tiny_bitnet_packed")
os.makedirs(packed_dir, exist_ok=True)
save_file(packed_sd, os.path.join(packed_dir, "model.safetensors"), metadata={"format": "pt"})
pcfg = json.load(open(os.path.join(bf16_dir, "config.json")))
pcfg["quantization_config"] = {"quant_method": "bitnet", "linear_class": "bitlinear",
                               "quantization_mode": "offline"}
json.dump(pcfg, open(os.path.join(packed_dir, "config.json"), "w"), indent=2)

# transformers must accept the packed layout and unpack it to the same ternary values.
loaded = BitNetForCausalLM.from_pretrained(packed_dir, dtype=torch.bfloat16)
q = loaded.model.layers[0].self_attn.q_proj
assert torch.equal(orig(tb.unpack_weights)(q.weight, dtype=torch.int8),
                   expected["model.layers.0.self_attn.q_proj.ternary"])
print("packed checkpoint loads in transformers:", type(q).__name__)

# Oracle logits: every nn.Linear but lm_head replaced by AutoBitLinear(online_quant=True).
def swap(module):
    for child_name, child in module.named_children():
        if isinstance(child, torch.nn.Linear) and child_name != "lm_head":
            new = tb.AutoBitLinear(child.in_features, child.out_features, bias=child.bias is not None,
                                   online_quant=True)
            new.weight = child.weight
            setattr(module, child_name, new)
        else:
            swap(child)
oracle = BitNetForCausalLM.from_pretrained(bf16_dir, dtype=torch.bfloat16).to(dev)
swap(oracle.model)
oracle.eval()
ids = torch.randint(3, cfg.vocab_size, (2, 16), generator=torch.Generator().manual_seed(7))
with torch.no_grad():
    logits = oracle(input_ids=ids.to(dev)).logits.float().cpu()
expected["oracle.input_ids"] = ids.to(torch.int32)
expected["oracle.logits"] = logits.contiguous()
save_file(expected, os.path.join(out, "tiny_bitnet_expected.safetensors"))
print("wrote fixtures to", out, "| linears:", len(linears), "| logits", tuple(logits.shape))
