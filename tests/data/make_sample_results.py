"""Writes tests/data/sample_results/: a small results folder in the exact layout and formats the
pipeline and the benchmarks write (pipeline_status.json, results/prepare|convert|tuning, the
throughput_bench and kernel_bench folders with their per-point JSONs and the CSVs rebuilt from them),
for the report's golden-file test. The numbers are made up but shaped like real runs (REFERENCE §9).

  python3 tests/data/make_sample_results.py tests/data/sample_results

Contents: an H100 run (INT8 + FP8, 2:4..2:10, prefill M 512/1024/4096, decode M 64/256, kernel
M 64/1024/16384) whose FP8 2:10 decode point M=256 failed and whose task 8 was not selected, plus A100
(cc 8.0) results with INT8 only, so the report shows its cross-GPU section and FP8 as unsupported.
After changing this script, regenerate the golden report on purpose:
  SLIDESPARSE_UPDATE_GOLDEN=1 ctest --test-dir <build> -R ReportGolden
"""
import json
import math
import os
import shutil
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/sample_results"
if os.path.exists(out):
    shutil.rmtree(out)

SPARSE = [4, 6, 8, 10]
PREFILL_M = [512, 1024, 4096]
DECODE_M = [64, 256]
KERNEL_M = [64, 1024, 16384]
LAYERS = [("qkv", 3840, 2560), ("o", 2560, 2560), ("gate_up", 13824, 2560), ("down", 2560, 6912)]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def write_json(path, obj):  # nlohmann::json dump(2): keys sorted, ": " separators
    write(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_csv(path, header, rows):
    write(path, "\n".join(",".join(r) for r in [header] + rows) + "\n")


def to_string(v):  # std::to_string(double)
    return "%f" % v


def tag(gpu, cc, dtype):
    return "%s_cc%d_%s_cu130_x86_64" % (gpu, cc, dtype)


def ceil32(v):
    return (v + 31) // 32 * 32


def k_slid(k, l):  # K' = ceil32(ceil(K/L) * (2L-4))
    return ceil32(-(-k // l) * (2 * l - 4))


# ---- throughput: tokens/s of cuBLASLt per M and the speedups of 2:4..2:10 (None: the point failed)
THROUGHPUT = {
    ("H100", 90, "INT8", "prefill"): ({512: 21480.0, 1024: 30565.0, 4096: 71210.0},
                                      {512: [1.06, 1.09, 1.04, 1.05], 1024: [1.10, 1.14, 1.08, 1.10],
                                       4096: [1.15, 1.11, 1.06, 1.03]}),
    ("H100", 90, "FP8E4M3", "prefill"): ({512: 22310.0, 1024: 31785.0, 4096: 77420.0},
                                         {512: [1.01, 1.02, 1.00, 0.99], 1024: [1.03, 1.04, 1.03, 1.02],
                                          4096: [1.09, 1.00, 0.97, 0.94]}),
    ("H100", 90, "INT8", "decode"): ({64: 8111.0, 256: 15420.0},
                                     {64: [1.10, 1.10, 1.08, 1.05], 256: [1.12, 1.07, 1.07, 1.04]}),
    ("H100", 90, "FP8E4M3", "decode"): ({64: 9646.0, 256: 17210.0},
                                        {64: [0.98, 0.95, 0.92, 0.90], 256: [1.01, 0.97, 0.96, None]}),
    ("A100", 80, "INT8", "prefill"): ({512: 11020.0, 1024: 15870.0, 4096: 30140.0},
                                      {512: [1.52, 1.21, 1.15, 1.10], 1024: [1.71, 1.30, 1.22, 1.16],
                                       4096: [1.85, 1.36, 1.30, 1.22]}),
    ("A100", 80, "INT8", "decode"): ({64: 4810.0, 256: 8930.0},
                                     {64: [1.21, 1.12, 1.09, 1.06], 256: [1.30, 1.16, 1.12, 1.08]}),
}


def plan(stage, m):  # src/bench/throughput_bench.cc plan_point
    if stage == "prefill":
        prompt = m if m <= 1024 else 1024
        seqs = 1 if m <= 1024 else m // 1024
        return prompt, seqs, 128 * seqs, 128, 1
    return 16, m, m, 256, 256


def throughput_point(stage, m, tokens_per_s):
    prompt, seqs, prompts, steps, output = plan(stage, m)
    total = prompts * (prompt + output)
    elapsed = total / tokens_per_s
    return {"M": m, "stage": stage, "elapsed_time": elapsed, "num_requests": prompts, "prompt_len": prompt,
            "max_num_seqs": seqs, "steps": steps, "output_len": output, "total_num_tokens": total,
            "requests_per_second": prompts / elapsed, "tokens_per_second": total / elapsed,
            "startup_seconds": 2.5, "engine_stats": "prefill %.0f tok/s | decode %.0f tok/s | running 0 waiting 0 | "
            "KV 0.0%% of 4096 blocks" % (tokens_per_s, 0.0 if stage == "prefill" else tokens_per_s),
            "preemptions": 0, "kv_blocks": 4096, "cuda_graphs": True}


def write_throughput(root):
    for (gpu, cc, dtype, stage), (dense, speedups) in THROUGHPUT.items():
        base = os.path.join(root, stage, tag(gpu, cc, dtype))
        backends = [("cublaslt", lambda m: dense[m])]
        for i, l in enumerate(SPARSE):
            backends.append(("cusparselt/2_%d" % l,
                             lambda m, i=i: None if speedups[m][i] is None else dense[m] * speedups[m][i]))
        for folder, rate in backends:
            d = os.path.join(base, folder)
            rows = []
            for m in sorted(dense):
                if rate(m) is None:
                    continue
                p = throughput_point(stage, m, rate(m))
                write_json(os.path.join(d, "json", "BitNet-2B_M%d.json" % m), p)
                row = [str(m), str(p["prompt_len"]), str(p["max_num_seqs"]), str(p["num_requests"]), str(p["steps"])]
                if stage == "decode":
                    row.append(str(p["output_len"]))
                rows.append(row + [to_string(p["requests_per_second"]), to_string(p["tokens_per_second"]),
                                   to_string(p["elapsed_time"])])
            header = ["M_%s" % stage, "prompt_len", "max_num_seqs", "num_prompts", "N_%s" % stage]
            if stage == "decode":
                header.append("output_len")
            write_csv(os.path.join(d, "BitNet-2B_%s.csv" % stage),
                      header + ["requests_per_s", "tokens_per_s", "elapsed_time_s"], rows)


# ---- kernels: dense TOPS per M, and how much of the 2x a 2:4 GEMM reaches (its efficiency)
KERNELS = {
    ("H100", 90, "INT8"): ({64: 180.0, 1024: 1050.0, 16384: 1310.0}, {64: 0.55, 1024: 0.62, 16384: 0.645}),
    ("H100", 90, "FP8E4M3"): ({64: 170.0, 1024: 1010.0, 16384: 1280.0}, {64: 0.60, 1024: 0.72, 16384: 0.785}),
    ("A100", 80, "INT8"): ({64: 95.0, 1024: 520.0, 16384: 590.0}, {64: 0.85, 1024: 0.95, 16384: 0.99}),
}
LAYER_FACTOR = {"qkv": 1.0, "o": 0.93, "gate_up": 1.04, "down": 0.98}


def write_kernels(root):
    for (gpu, cc, dtype), (dense_tops, efficiency) in KERNELS.items():
        d = os.path.join(root, tag(gpu, cc, dtype))
        labels = ["cublaslt"] + ["cusparselt_2_%d" % l for l in SPARSE]
        totals = {}
        for label in labels:
            l = None if label == "cublaslt" else int(label.rsplit("_", 1)[1])
            rows = []
            for m in KERNEL_M:
                layers = []
                for name, n, k in LAYERS:
                    kg = k if l is None else k_slid(k, l)
                    dense_us = 2.0 * m * n * k / (dense_tops[m] * LAYER_FACTOR[name] * 1e6)
                    us = dense_us if l is None else dense_us * (kg / k) / (2 * efficiency[m])
                    us = round(us, 2)
                    tops = 2.0 * m * n * k / us / 1e6
                    algorithm = ("heuristic candidate (workspace 33554432)" if l is None
                                 else "alg %d split-k 1" % (m % 3))
                    candidates = 24 if l is None else 18
                    layers.append({"layer": name, "N": n, "K": k, "K_gemm": kg, "latency_us": us, "tops": tops,
                                   "algorithm": algorithm, "candidates": candidates})
                    rows.append([str(m), str(n), str(k), str(kg), name, "%.2f" % us, "%.1f" % tops, algorithm,
                                 str(candidates)])
                    totals.setdefault(m, {}).setdefault(label, 0.0)
                    totals[m][label] += us
                write_json(os.path.join(d, "json", "model_%s_M%d.json" % (label, m)),
                           {"backend": label, "dtype": dtype, "mode": "model", "M": m, "layers": layers})
            write_csv(os.path.join(d, label + "_layers.csv"),
                      ["M", "N", "K", "K_gemm", "layer", "latency_us", "tops", "algorithm", "candidates"], rows)
        header = ["M"] + [lb + "_us" for lb in labels] + [lb + "_speedup" for lb in labels[1:]]
        rows = []
        for m in KERNEL_M:
            rows.append([str(m)] + ["%.2f" % totals[m][lb] for lb in labels] +
                        ["%.3f" % (totals[m]["cublaslt"] / totals[m][lb]) for lb in labels[1:]])
        write_csv(os.path.join(d, "totals_model.csv"), header, rows)


# ---- model preparation, conversion, tuning
def write_model_results(results):
    prepared = [("BitNet-2B-BF16", "bf16", 14.2, 4826316800, 332), ("BitNet-2B-INT8", "int8", 21.7, 2751463424, 542),
                ("BitNet-2B-FP8", "fp8", 23.1, 2751463424, 542)]
    for name, dtype, seconds, size, tensors in prepared:
        write_json(os.path.join(results, "prepare", name + ".json"),
                   {"name": name, "dtype": dtype, "seconds": seconds, "bytes": size, "tensors": tensors})
    expand = {4: 1.0, 6: 1.3361, 8: 1.5, 10: 1.6006}
    after = {4: 0.5621, 6: 0.4518, 8: 0.4133, 10: 0.3927}
    seconds = {4: 21.3, 6: 24.8, 8: 26.1, 10: 27.5}
    for dtype in ["int8", "fp8"]:
        for l in SPARSE:
            name = "BitNet-2B-%s-SlideSparse-2_%d" % (dtype.upper(), l)
            linear = 2084044800
            write_json(os.path.join(results, "convert", name + ".json"),
                       {"name": name, "dtype": dtype, "sparsity": "2:%d" % l,
                        "seconds": seconds[l] + (0.9 if dtype == "fp8" else 0.0),
                        "bytes": 2751463424 - linear + int(linear * expand[l]), "expand_ratio": expand[l],
                        "zero_fraction_before": 0.3418, "zero_fraction_after": after[l]})
    write_json(os.path.join(results, "tuning", "summary.json"),
               {"hardware": "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, "
                            "cuSPARSELt 800",
                "phases": [{"name": "coarse", "dtype": "int8,fp8", "seconds": 38.4, "entries": 40},
                           {"name": "fine", "dtype": "int8,fp8", "seconds": 83.3, "entries": 288,
                            "rejected": 1728}]})


def write_status(path):
    units = {}

    def unit(key, task, seconds, error=""):
        units[key] = {"status": "failed" if error else "done", "seconds": seconds, "error": error, "task": task,
                      "options": {}}

    unit("base/BF16", 1, 14.2)
    unit("base/INT8", 1, 21.7)
    unit("base/FP8", 1, 23.1)
    for dtype in ["INT8", "FP8"]:
        for l in SPARSE:
            unit("convert/%s/2:%d" % (dtype, l), 2, 25.0)
    unit("tune/coarse", 3, 38.4)
    unit("tune/fine", 3, 83.3)
    for stage, ms in [("prefill", PREFILL_M), ("decode", DECODE_M)]:
        for dtype in ["INT8", "FP8"]:
            for backend in ["cublaslt"] + ["cusparselt/2:%d" % l for l in SPARSE]:
                for m in ms:
                    key = "%s/%s/%s/M=%d" % (stage, dtype, backend, m)
                    failed = key == "decode/FP8/cusparselt/2:10/M=256"
                    unit(key, 4 if stage == "prefill" else 5, 9.4,
                         "cuSPARSELt: cusparseLtMatmul failed (CUSPARSE_STATUS_INTERNAL_ERROR) in decode step 17"
                         if failed else "")
    for dtype in ["INT8", "FP8"]:
        for backend in ["cublaslt"] + ["cusparselt_2_%d" % l for l in SPARSE]:
            for m in KERNEL_M:
                unit("kernel/%s/%s/M=%d" % (dtype, backend, m), 6 if backend == "cublaslt" else 7, 2.3)
    tasks = [
        (1, "base models", "done", 61.4, "", 3, 3),
        (2, "SlideSparse conversion", "done", 203.9, "", 8, 8),
        (3, "offline tuning", "done", 121.7, "", 2, 2),
        (4, "prefill throughput", "done", 312.4, "", 30, 30),
        (5, "decode throughput", "failed", 188.2, "1 of 20 units failed", 19, 20),
        (6, "kernel cuBLASLt", "done", 14.8, "", 6, 6),
        (7, "kernel cuSPARSELt 2:4..2:10", "done", 55.3, "", 24, 24),
        (8, "kernel cuSPARSELt 2:12..2:inf", "skipped", 0.0, "not selected (--tasks 1,1,1,1,1,1,1,0)", 0, 0),
    ]
    write_json(path, {"version": 1, "model": "synth:bitnet-2b", "started_utc": "2026-11-25T09:00:00Z",
                      "updated_utc": "2026-11-25T09:16:36Z",
                      "tasks": [{"id": i, "name": n, "status": s, "seconds": sec, "reason": r, "units_done": d,
                                 "units_total": t} for i, n, s, sec, r, d, t in tasks],
                      "units": units})


write_status(os.path.join(out, "pipeline_status.json"))
write_model_results(os.path.join(out, "results"))
write_throughput(os.path.join(out, "results", "throughput_bench"))
write_kernels(os.path.join(out, "results", "kernel_bench"))
