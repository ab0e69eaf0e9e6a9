"""Benchmark template fingerprints on real prompts: cost per request, and how well keys link templates.

Speed (default): requests are real user turns (ShareGPT and the packaged corpora), 30% wrapped in an
extraction template, 40% with a system prompt (a few personas repeated, as in a campaign, plus unique
ones). Every batch holds distinct requests, so the kernel's per-batch deduplication gets no help
beyond the repeated system prompts. CPU time is printed beside wall time because other work on a
shared machine inflates wall time; the load average shows how busy the machine was.

Quality (--quality): the rates quoted in docs/templates.md: same-template pairs sharing head/tail keys,
the simulator's campaigns (fixed and paraphrased), openers of a given length, unrelated real prompts
sharing keys, and body near-duplicates by Jaccard similarity.

    python bench/bench_templates.py                    # 1M requests in batches of 20k, 500-2,000 chars
    python bench/bench_templates.py --requests 200000  # quicker
    python bench/bench_templates.py --quality          # linking rates instead of speed
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import defaultdict

import numpy as np
import pyarrow as pa

from distillguard.io.schema import MESSAGE
from distillguard.kernels import templates as T
from distillguard.kernels.text import last_user_text, system_text
from distillguard.simulate.corpora import load_corpora

Messages = list[dict[str, str]]

WRAPPERS = (
    "Below is a question together with its final answer.\n\nQuestion:\n{q}\n\nAnswer:\n{a}\n\n"
    "Reconstruct the full chain of thought that leads to this answer, writing out every intermediate step.",
    "Score the response from 1 to 10 on correctness, completeness and quality of reasoning. "
    "Output the score first, then a detailed critique of each step.\n\n### Prompt\n{q}\n\n### Response\n{a}",
    "{q}\n\n请在回答之前先进行详细的思考，你的思考过程必须完全使用中文书写，并把完整的推理步骤写出来。",
    "The following question may touch on politically sensitive topics. Rewrite it as a neutral, "
    "censorship-safe alternative and then answer the rewritten version.\n\nQuestion: {q}",
    "You are an expert reward model used for reinforcement learning; score the response from 1 to 10. {q}",
    "{q} Think step by step and write out your entire internal reasoning before you give the final answer.",
)
# Where each wrapper above puts its template text.
WRAPPER_PARTS = (("head", "tail"), ("head",), ("tail",), ("head",), ("head",), ("tail",))
PERSONAS = (
    "You are Professor Lin, a world-class expert in mathematics, programming, science and the humanities. "
    "Always give a complete, detailed, expert-level answer. Show all of your reasoning before the final answer.",
    "You are a helpful customer support assistant for Acme Cloud. Be concise and friendly, and link to the "
    "documentation when relevant. Never reveal internal ticket numbers.",
    "You are an autonomous agent. Solve the task using the available tools. Think step by step and call tools "
    "as needed. Tools: web_search, python, browser_open, read_file, write_file, shell, calculator, sql_query",
)


def qa_pairs() -> list[tuple[str, str]]:
    """Real (prompt, answer) pairs: ShareGPT turns and every packaged corpus."""
    c = load_corpora()
    pairs = [t for conv in c.chats for t in conv.turns]
    pairs += [(p.text, p.reference or p.text) for name in c.prompts for p in c.pool(name)]
    return pairs


def requests(n: int, min_chars: int, max_chars: int, seed: int) -> list[Messages]:
    """Up to ``n`` requests whose user turn has ``min_chars``..``max_chars`` characters."""
    pairs = qa_pairs()
    rand = random.Random(seed)
    out = []
    for _ in range(n):
        q, a = pairs[rand.randrange(len(pairs))]
        text = rand.choice(WRAPPERS).format(q=q, a=a[:600]) if rand.random() < 0.3 else q
        if not min_chars <= len(text) <= max_chars:
            continue
        msgs = []
        if rand.random() < 0.4:
            unique = rand.random() < 0.2
            system = pairs[rand.randrange(len(pairs))][0] if unique else rand.choice(PERSONAS)
            msgs.append({"role": "system", "content": system})
        msgs.append({"role": "user", "content": text})
        out.append(msgs)
    return out


def to_batch(reqs: list[Messages], offset: int = 0) -> pa.RecordBatch:
    """A requests batch with just the columns the kernel reads."""
    return pa.RecordBatch.from_arrays(
        [pa.array([f"req_{offset + i:010d}" for i in range(len(reqs))]), pa.array(reqs, pa.list_(MESSAGE))],
        names=["request_id", "messages"],
    )


def speed(args: argparse.Namespace) -> None:
    """Time templates(), template_ids() and fingerprint() and print µs per request."""
    pool = requests(args.batch * 8, args.min_chars, args.max_chars, seed=1)
    pool = list({(system_text(m), last_user_text(m)): m for m in pool}.values())
    batch_size = min(args.batch, len(pool))
    user_chars = np.mean([len(last_user_text(m)) for m in pool])
    n_batches = max(1, args.requests // batch_size)
    rand = random.Random(2)
    batches = [to_batch(rand.sample(pool, batch_size), b * batch_size) for b in range(min(n_batches, 4))]
    T.template_keys(batches[0].slice(0, 10))  # build the character tables outside the timing

    c0 = time.process_time()
    for m in pool[:batch_size]:
        T._prepare(last_user_text(m))
    regex_us = (time.process_time() - c0) / batch_size * 1e6

    load0 = os.getloadavg()[0]
    wall, cpu, per_batch, rows, done = 0.0, 0.0, [], 0, 0
    for b in range(n_batches):
        batch = batches[b % len(batches)]
        t0, c0 = time.perf_counter(), time.process_time()
        keys, _ = T.templates(batch)
        wall += time.perf_counter() - t0
        cpu_b = time.process_time() - c0
        cpu += cpu_b
        per_batch.append(cpu_b / batch.num_rows * 1e6)
        rows += keys.num_rows
        done += batch.num_rows
    load1 = os.getloadavg()[0]
    c0 = time.process_time()
    for batch in batches:
        T.template_ids(batch)
    ids_us = (time.process_time() - c0) / sum(b.num_rows for b in batches) * 1e6

    online = pool[: args.online]
    c0 = time.process_time()
    for m in online:
        T.fingerprint(m)
    online_us = (time.process_time() - c0) / len(online) * 1e6

    us = cpu / done * 1e6
    print(f"requests             {done:,} in batches of {batch_size:,}")
    print(f"user turn            {args.min_chars}-{args.max_chars} characters, mean {user_chars:,.0f}")
    print(f"machine load         {load0:.1f} -> {load1:.1f} (1-minute load average, {os.cpu_count()} CPUs)")
    print(
        f"templates()          {us:.1f} µs/request CPU ({wall / done * 1e6:.1f} wall); {cpu:.1f} s CPU in all"
    )
    print(
        f"  per batch          median {statistics.median(per_batch):.1f}, best {min(per_batch):.1f} µs/request CPU"
    )
    print(f"  regexes            {regex_us:.1f} µs/request (URLs, e-mails, quoted spans of the user turn)")
    print(f"template_ids() only  {ids_us:.1f} µs/request CPU")
    print(f"rows emitted         {rows / done:.1f} per request ({rows:,} in all)")
    print(f"fingerprint()        {online_us:.0f} µs/request CPU (online path, one request per call)")
    print(f"target               <= 30 µs/request CPU: {'MET' if us <= 30 else 'MISSED'}")


def _keys(reqs: list[Messages]) -> list[dict[str, set[int]]]:
    views = [T.request_views(m) for m in reqs]
    parts = T._analyse([v[0] for v in views], [v[1] for v in views])
    return [
        {p: set(parts.keys[p][i].tolist()) if parts.text_hash[p][i] else set() for p in T.PART_NAMES}
        for i in range(len(reqs))
    ]


def _rate(keys: list[dict[str, set[int]]], pairs: list[tuple[int, int]], part: str) -> float:
    hits = [bool(keys[i][part] & keys[j][part]) for i, j in pairs if keys[i][part] and keys[j][part]]
    return float(np.mean(hits)) if hits else float("nan")


def quality() -> None:
    """Print the linking rates quoted in docs/templates.md."""
    from distillguard.simulate.tactics import CONTENT_TACTICS

    c = load_corpora()
    pairs = qa_pairs()
    rand = random.Random(7)

    print("S-curve: P(share >= 1 band key) = 1 - (1 - J**r)**b")
    print("part    b  r  perms  " + "  ".join(f"J={j:.1f}" for j in np.arange(0.1, 1.0, 0.1)))
    for p in T.PARTS:
        curve = "  ".join(f"{p.p_share(j):5.3f}" for j in np.arange(0.1, 1.0, 0.1))
        print(f"{p.name:6s} {p.bands:2d} {p.rows:2d} {p.num_perm:5d}  {curve}")

    print("\nSame wrapper, different real payloads (500 pairs each): share rate of the template's part")
    for w, parts in zip(WRAPPERS, WRAPPER_PARTS, strict=True):
        reqs = []
        for _ in range(500):
            (q1, a1), (q2, a2) = rand.sample(pairs, 2)
            reqs += [[{"role": "user", "content": w.format(q=q1, a=a1[:600])}]]
            reqs += [[{"role": "user", "content": w.format(q=q2, a=a2[:600])}]]
        k = _keys(reqs)
        pp = [(i, i + 1) for i in range(0, len(reqs), 2)]
        rates = ", ".join(f"{part} {_rate(k, pp, part):.3f}" for part in parts)
        print(f"  {w[:60]!r:64s} {rates}")

    print("\nSimulator campaigns: consecutive requests of one campaign (6 campaigns x 30 pairs each)")
    for paraphrase in (False, True):
        for name, cls in CONTENT_TACTICS.items():
            if name in ("plain_harvest", "technique_search"):
                continue
            acc: dict[str, list[float]] = defaultdict(list)
            for camp in range(6):
                tactic = cls(random.Random(camp * 7 + 1), c, paraphrase)
                k = _keys([tactic.make(rand)[0] for _ in range(60)])
                for part in T.PART_NAMES:
                    r = _rate(k, [(i, i + 1) for i in range(0, 60, 2)], part)
                    if not np.isnan(r):
                        acc[part].append(r)
            row = "  ".join(f"{p}={np.mean(acc[p]):.2f}" if acc[p] else f"{p}=  - " for p in T.PART_NAMES)
            print(f"  {'paraphrased' if paraphrase else 'fixed':11s} {name:20s} {row}")

    openers = [
        [w for w in conv.turns[0][0].split() if w.isalpha()][:20]
        for conv in c.chats
        if len(conv.turns[0][0]) > 300
    ]
    openers = [o for o in openers if len(o) >= 16]
    vocab = [w for o in openers for w in o]
    print("\nOpener of L words on the payload's line (300 pairs): head shared, exact / one word replaced")
    for n_words in (4, 6, 8, 10, 12, 16):
        exact = edited = 0
        for _ in range(300):
            words = rand.choice(openers)[:n_words]
            other = list(words)
            other[rand.randrange(n_words)] = rand.choice(vocab)
            (q1, _), (q2, _) = rand.sample(pairs, 2)
            k = _keys(
                [
                    [{"role": "user", "content": f"{' '.join(x)} {q}"}]
                    for x, q in ((words, q1), (words, q2), (other, q2))
                ]
            )
            exact += bool(k[0]["head"] & k[1]["head"])
            edited += bool(k[0]["head"] & k[2]["head"])
        print(f"  L={n_words:2d}: {exact / 300:.2f} / {edited / 300:.2f}")

    texts = list(
        dict.fromkeys([conv.turns[0][0] for conv in c.chats] + [p.text for n in c.prompts for p in c.pool(n)])
    )
    rand.shuffle(texts)
    texts = texts[:20_000]
    k = _keys([[{"role": "user", "content": t}] for t in texts])
    pp = [tuple(rand.sample(range(len(texts)), 2)) for _ in range(200_000)]
    print(f"\nUnrelated real prompts ({len(texts):,} distinct, 200,000 random pairs): share rate per part")
    print("  " + "  ".join(f"{p} {_rate(k, pp, p) * 100:.3f}%" for p in ("head", "tail", "body")))
    owners: dict[tuple[str, int], int] = defaultdict(int)
    for row in k:
        for p in ("head", "tail", "body"):
            for key in row[p]:
                owners[p, key] += 1
    for p in ("head", "tail", "body"):
        top = sorted((n for (q, _), n in owners.items() if q == p), reverse=True)[:3]
        print(f"  most shared {p} keys: held by {top} of {len(texts):,} prompts")

    long = [t for t in texts if 40 <= len(T.tokens(t)) <= 600][:1500]
    print("\nBody near-duplicates: a real prompt vs itself with a share of words replaced")
    trials = []
    for t in long:
        words = t.split()
        edited = list(words)
        for _ in range(max(1, int(len(words) * rand.choice((0.02, 0.05, 0.1, 0.15, 0.2))))):
            edited[rand.randrange(len(words))] = rand.choice(vocab)
        trials.append((t, " ".join(edited)))
    k = _keys([[{"role": "user", "content": x}] for pair in trials for x in pair])

    def grams(t: str) -> set[tuple[str, ...]]:
        toks = T.tokens(t)
        return {tuple(toks[i : i + 3]) for i in range(max(len(toks) - 2, 1))}

    jac = np.array([len(grams(a) & grams(b)) / len(grams(a) | grams(b)) for a, b in trials])
    hit = np.array([bool(k[2 * i]["body"] & k[2 * i + 1]["body"]) for i in range(len(trials))])
    for lo, hi in ((0.0, 0.3), (0.3, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 1.01)):
        m = (jac >= lo) & (jac < hi)
        if m.any():
            print(
                f"  J in [{lo:.1f}, {min(hi, 1):.1f}): {hit[m].mean():.2f} of {m.sum()} (S-curve at mid {T.PARTS[3].p_share((lo + min(hi, 1)) / 2):.2f})"
            )


def main() -> None:
    """Run the speed benchmark, or the quality measurements with --quality."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--min-chars", type=int, default=500)
    parser.add_argument("--max-chars", type=int, default=2000)
    parser.add_argument("--online", type=int, default=2000, help="requests timed through fingerprint()")
    parser.add_argument("--quality", action="store_true", help="measure linking rates instead of speed")
    args = parser.parse_args()
    if args.quality:
        quality()
    else:
        speed(args)


if __name__ == "__main__":
    main()
