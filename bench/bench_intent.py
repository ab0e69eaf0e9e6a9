"""Benchmark the extraction-intent classifier: training time and inference µs/request on real prompts.

Builds 20,000 ``requests`` records from the packaged corpora and ShareGPT (real multi-turn chats,
a third with a system prompt), then times:

* training of the shipped classifier (``default_classifier()``: seed generation + fit);
* ``intent_scores`` on one 20k-row Arrow batch (the batch scanner's call), split into the
  message-to-text step and the model step;
* ``intent_scores`` on one-row batches (the online service's call).

    python bench/bench_intent.py            # 20,000 requests
    python bench/bench_intent.py --n 50000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import numpy as np

from distillguard.io.records import records_to_batch
from distillguard.kernels.intent import default_classifier, intent_scores, prompt_texts
from distillguard.simulate.corpora import load_corpora

_SYSTEMS = (
    "You are a helpful assistant.",
    "You are a senior Python engineer. Answer with code first.",
    "You are a customer support agent for an online shop. Be brief and polite.",
)


def _requests(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = random.Random(seed)
    c = load_corpora()
    pools = [
        p.text
        for name in ("gsm8k-test", "gpteacher-codegen", "gpteacher-roleplay", "hh-harmless-first-turns")
        for p in c.pool(name)
    ]
    out = []
    for i in range(n):
        msgs: list[dict[str, str]] = []
        if rng.random() < 0.33:
            msgs.append({"role": "system", "content": rng.choice(_SYSTEMS)})
        if rng.random() < 0.6:
            chat = rng.choice(c.chats)
            k = rng.randint(1, len(chat.turns))
            for u, a in chat.turns[: k - 1]:
                msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
            msgs.append({"role": "user", "content": chat.turns[k - 1][0]})
        else:
            msgs.append({"role": "user", "content": rng.choice(pools)})
        out.append(
            {
                "request_id": f"req_{i:08d}",
                "ts": "2026-03-01T00:00:00.000Z",
                "account_id": "a",
                "model": "m",
                "messages": msgs,
            }
        )
    return out


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="requests in the batch")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    load_corpora()  # corpus loading is shared with the simulator; time it apart from training
    t = time.perf_counter()
    model = default_classifier()
    train_s = time.perf_counter() - t

    batch = records_to_batch(_requests(args.n), "requests")
    texts = prompt_texts(batch.column("messages"))
    lengths = np.array([len(x) for x in texts])
    n = batch.num_rows

    t_text = _best(lambda: prompt_texts(batch.column("messages")), args.repeat)
    t_model = _best(lambda: model.predict_proba(texts), args.repeat)
    t_all = _best(lambda: intent_scores(batch, model), args.repeat)

    singles = [batch.slice(i, 1) for i in range(0, min(n, 2000))]
    lat = []
    for one in singles:
        t = time.perf_counter()
        intent_scores(one, model)
        lat.append(time.perf_counter() - t)

    flagged = float(np.mean(intent_scores(batch, model).column("p_extract").to_numpy() >= model.threshold))
    print(
        f"cpus: {os.cpu_count()}  requests: {n}  prompt chars: mean {lengths.mean():.0f}, p50 {np.median(lengths):.0f}, "
        f"p99 {np.percentile(lengths, 99):.0f} (model reads at most {model.head_chars}+{model.tail_chars})"
    )
    print(f"training (default_classifier, seeds + fit): {train_s:.2f} s")
    print(
        f"batch intent_scores: {t_all / n * 1e6:.1f} µs/request "
        f"(messages->text {t_text / n * 1e6:.1f}, model {t_model / n * 1e6:.1f})"
    )
    print(
        f"one-row intent_scores: median {statistics.median(lat) * 1e6:.0f} µs, p99 {np.percentile(lat, 99) * 1e6:.0f} µs"
    )
    print(f"share flagged (p_extract >= {model.threshold}) on this benign traffic: {flagged:.4f}")


if __name__ == "__main__":
    main()
