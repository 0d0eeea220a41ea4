#!/usr/bin/env python3
"""The transformers peer of `slidesparse bench throughput --stage prefill`: BitNet-2B-shaped
BitNetForCausalLM in bf16 (random weights, the shapes are what matter for speed), eager and under
torch.compile, on the prefill protocol of docs/PROTOCOLS.md: a step of M tokens is M/1024 prompts
of 1024 random token ids (one prompt of M tokens when M <= 1024), one forward of the whole batch,
logits of the last position only (output_len 1). tokens/s = (prompt + output tokens) / time per
step, CUDA-event timed over --steps steps after --warmup steps. Runs on the GPU machine (PyTorch +
transformers installed, no network needed).

    python3 scripts/transformers_peer.py [--m-list 32768] [--modes eager,compile] [--steps 10]
"""
import argparse
import sys

import torch
from transformers import BitNetConfig, BitNetForCausalLM


def bitnet_2b_config(layers):
    return BitNetConfig(vocab_size=128256, hidden_size=2560, intermediate_size=6912,
                        num_hidden_layers=layers, num_attention_heads=20, num_key_value_heads=5,
                        max_position_embeddings=4096, rope_theta=500000.0, rms_norm_eps=1e-5,
                        hidden_act="relu2", tie_word_embeddings=True)


def time_prefill(forward, ids, warmup, steps):
    with torch.inference_mode():
        for _ in range(warmup):
            forward(ids)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(steps):
            forward(ids)
        end.record()
        torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000.0 / steps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--m-list", default="32768", help="prompt tokens per step, comma-separated")
    p.add_argument("--modes", default="eager,compile", help="eager, compile (max-autotune-no-cudagraphs)")
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("transformers_peer: no CUDA GPU")
    modes = a.modes.split(",")
    for mode in modes:
        if mode not in ("eager", "compile"):
            sys.exit(f"transformers_peer: unknown mode '{mode}' (eager, compile)")
    ms = [int(m) for m in a.m_list.split(",")]
    torch.manual_seed(0)
    model = BitNetForCausalLM(bitnet_2b_config(a.layers)).to(device="cuda", dtype=torch.bfloat16).eval()
    print(f"transformers peer: {torch.cuda.get_device_name()}, torch {torch.__version__}, "
          f"BitNet-2B-shaped bf16, {a.layers} layers")
    for mode in modes:
        def run(ids, body=model.model, head=model.lm_head):
            hidden = body(input_ids=ids, use_cache=False).last_hidden_state
            return head(hidden[:, -1, :])
        forward = torch.compile(run, mode="max-autotune-no-cudagraphs") if mode == "compile" else run
        for m in ms:
            prompt_len = min(m, 1024)
            seqs = max(1, m // 1024)
            ids = torch.randint(0, 128256, (seqs, prompt_len), device="cuda")
            seconds = time_prefill(forward, ids, a.warmup, a.steps)
            tokens = seqs * (prompt_len + 1)
            print(f"transformers {mode:7s} prefill M={m}: {tokens / seconds:,.0f} tok/s "
                  f"({seconds * 1000:.1f} ms per step)", flush=True)


if __name__ == "__main__":
    main()
