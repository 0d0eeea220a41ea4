#!/usr/bin/env python3
"""Load test of `slidesparse serve` (standard library only): first every prompt once, alone and not
streamed (the reference replies); then CLIENTS concurrent streaming clients for SECONDS, each sending
greedy requests back to back. Checks that every stream is complete (finish_reason, usage, [DONE]) and
that its text equals the reference reply of its prompt; prints throughput and the p50 / p99 of the
time to first token and the inter-token latency (between content chunks) as the clients saw them,
and the same two from the server's own /metrics histograms over the run (interpolated inside a
bucket, as Prometheus' histogram_quantile does). With many Python clients the client-side inter-token
gaps are blurred: the clients share one interpreter and read several chunks at a time.
With --disconnect-share F, that share of the streams is dropped by its client after four content
chunks; once the load ends the server must show no request running and an empty KV cache
(/metrics), i.e. every dropped stream freed its sequence. --n N asks for N choices per request (each
must equal the reference reply); --system-prompt TEXT starts every prompt with TEXT (a server with
--enable-prefix-caching then serves that start from its cache: the replies must not change, and the
cache's hits are printed). Exit status 1 on any error, incomplete stream, mismatch or request left
behind.

  scripts/serve_load.py --url http://127.0.0.1:8000 --clients 64 --seconds 60 --max-tokens 64
"""
import argparse
import random
import json
import threading
import time
import urllib.request

PROMPTS = [
    "The capital of France is", "Once upon a time", "def fibonacci(n):", "The quick brown fox",
    "In 1969, the first", "Water boils at", "My favourite recipe is", "The theory of relativity",
    "Here is a list of prime numbers:", "Dear hiring manager,", "The weather today", "import numpy as np",
    "A haiku about the sea:", "The meaning of life", "Step 1: preheat the oven", "Translate to German: good morning",
]


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=timeout)


def scrape(url):
    """The server's /metrics: ({histogram: [(upper bound, cumulative count)]}, {sample name: value})."""
    histograms, samples = {}, {}
    for line in urllib.request.urlopen(url + "/metrics").read().decode().splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        if "_bucket{" in name:
            metric, rest = name.split("_bucket{", 1)
            le = rest.split('le="', 1)[1].split('"', 1)[0]
            histograms.setdefault(metric, []).append((float("inf") if le == "+Inf" else float(le), float(value)))
        else:
            samples[name] = float(value)
    return histograms, samples


def histogram_percentile(before, after, p):
    """p-th percentile of what the histogram counted between two scrapes, linear inside its bucket."""
    before = dict(before)
    buckets = [(le, n - before.get(le, 0.0)) for le, n in after]
    total = buckets[-1][1]
    if total <= 0:
        return float("nan")
    rank, lower, below = p / 100.0 * total, 0.0, 0.0
    for le, cumulative in buckets:
        if cumulative >= rank:
            if le == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, cumulative
    return lower


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--model", default=None, help="model id (default: the server's first)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--disconnect-share", type=float, default=0.0,
                    help="share of the streams the client drops after four content chunks")
    ap.add_argument("--n", type=int, default=1, help="choices per request")
    ap.add_argument("--system-prompt", default="", help="text every prompt starts with")
    a = ap.parse_args()
    prompts = [a.system_prompt + p for p in PROMPTS]
    model = a.model or json.load(urllib.request.urlopen(a.url + "/v1/models"))["data"][0]["id"]
    base = {"model": model, "max_tokens": a.max_tokens, "temperature": 0, "ignore_eos": True}

    reference = {}
    for p in prompts:
        reference[p] = json.load(post(a.url + "/v1/completions", dict(base, prompt=p)))["choices"][0]["text"]

    lock = threading.Lock()
    stats = {"requests": 0, "errors": 0, "incomplete": 0, "mismatch": 0, "tokens": 0, "ttft": [], "itl": [],
             "first_error": None, "dropped": 0}
    deadline = time.monotonic() + a.seconds

    def client(index):
        i = index
        chooser = random.Random(index)
        while time.monotonic() < deadline:
            prompt = prompts[i % len(prompts)]
            i += a.clients
            drop = chooser.random() < a.disconnect_share
            start = time.monotonic()
            texts, finishes = [""] * a.n, [None] * a.n
            last, usage, done, ttft, gaps, pieces = None, None, False, None, [], 0
            try:
                with post(a.url + "/v1/completions", dict(base, prompt=prompt, stream=True, n=a.n,
                                                          stream_options={"include_usage": True})) as r:
                    for raw in r:
                        if drop and pieces == 4:
                            break  # leaving the with-block closes the connection mid-stream
                        line = raw.decode().strip()
                        if not line.startswith("data: "):
                            continue
                        if line == "data: [DONE]":
                            done = True
                            break
                        chunk = json.loads(line[6:])
                        usage = chunk.get("usage") or usage
                        if not chunk["choices"]:  # the usage chunk (stream_options.include_usage)
                            continue
                        choice = chunk["choices"][0]
                        piece, index = choice["text"], choice["index"]
                        now = time.monotonic()
                        if piece:
                            pieces += 1
                            if ttft is None:
                                ttft = now - start
                            elif last is not None:
                                gaps.append(now - last)
                            last = now
                        texts[index] += piece
                        finishes[index] = choice["finish_reason"] or finishes[index]
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    stats["errors"] += 1
                    stats["first_error"] = stats["first_error"] or repr(e)
                continue
            if drop:
                with lock:
                    stats["dropped"] += 1
                continue
            with lock:
                stats["requests"] += 1
                if not (done and all(finishes) and usage):
                    stats["incomplete"] += 1
                elif any(text != reference[prompt] for text in texts):
                    stats["mismatch"] += 1
                if usage:
                    stats["tokens"] += usage["completion_tokens"]
                if ttft is not None:
                    stats["ttft"].append(ttft)
                stats["itl"] += gaps

    scrape_before = scrape(a.url)[0]
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    scrape_after = scrape(a.url)[0]
    s = stats
    # Dropped streams must leave the engine: nothing running or waiting, no KV-cache block held.
    left_behind = None
    for _ in range(50):
        g = scrape(a.url)[1]
        left_behind = {k: v for k, v in g.items()
                       if k.split("{")[0] in ("slidesparse_num_requests_running", "slidesparse_num_requests_waiting",
                                              "slidesparse_kv_cache_usage_ratio") and v != 0}
        if not left_behind:
            break
        time.sleep(0.1)
    print(f"serve load: {a.clients} streaming clients, {elapsed:.1f} s, max_tokens {a.max_tokens}, greedy, "
          f"{a.n} choice(s) per request" + (f", a {len(a.system_prompt)}-character shared start" if a.system_prompt else ""))
    print(f"  requests {s['requests']}, errors {s['errors']}, incomplete {s['incomplete']}, "
          f"mismatching the solo reply {s['mismatch']}")
    if a.disconnect_share > 0:
        aborted = sum(v for k, v in scrape(a.url)[1].items() if 'finish_reason="abort"' in k)
        print(f"  streams dropped by their client after four chunks {s['dropped']}; requests the server ended "
              f"as aborted {aborted:.0f}; left running, waiting or holding KV cache 5 s after: "
              f"{left_behind or 'nothing'}")
    print(f"  generated {s['tokens']} tokens: {s['tokens'] / elapsed:.0f} tokens/s, {s['requests'] / elapsed:.2f} requests/s")
    print(f"  time to first token: p50 {1e3 * percentile(s['ttft'], 50):.1f} ms, p99 {1e3 * percentile(s['ttft'], 99):.1f} ms")
    print(f"  inter-token latency: p50 {1e3 * percentile(s['itl'], 50):.2f} ms, p99 {1e3 * percentile(s['itl'], 99):.2f} ms")
    for label, metric in (("time to first token", "slidesparse_time_to_first_token_seconds"),
                          ("inter-token latency", "slidesparse_inter_token_latency_seconds")):
        if metric in scrape_after:
            b, e = scrape_before.get(metric, []), scrape_after[metric]
            print(f"  server-side {label}: p50 {1e3 * histogram_percentile(b, e, 50):.2f} ms, "
                  f"p99 {1e3 * histogram_percentile(b, e, 99):.2f} ms")
    hits = sum(v for k, v in scrape(a.url)[1].items() if k.startswith("slidesparse_prefix_cache_hit_tokens_total"))
    print(f"  prompt tokens from the prefix cache since the server started: {hits:.0f}")
    if s["first_error"]:
        print(f"  first error: {s['first_error']}")
    return 1 if s["errors"] or s["incomplete"] or s["mismatch"] or left_behind else 0


if __name__ == "__main__":
    raise SystemExit(main())
