"""A distilabel synthetic-data job, written the way its users write one: a prompt set, a TextGeneration
task over an OpenAI-compatible endpoint, many concurrent generations. Run as a script by
tests/test_respond_distilabel.py with the proxy's URL; prints a JSON summary of what came back."""

from __future__ import annotations

import json
import sys

from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts
from distilabel.steps.tasks import TextGeneration

TOPICS = [
    "photosynthesis",
    "binary search trees",
    "the French revolution",
    "compound interest",
    "plate tectonics",
    "TCP congestion control",
    "the Krebs cycle",
    "Bayesian inference",
    "Roman aqueducts",
    "graph colouring",
    "supply and demand",
    "the immune system",
    "dynamic programming",
    "Impressionist painting",
    "black holes",
    "public key cryptography",
    "the water cycle",
    "game theory",
    "protein folding",
    "the printing press",
]
TEMPLATE = (
    "Generate 5 diverse, high-quality instruction-response pairs about {topic} for fine-tuning a language model. "
    "Vary difficulty and format, and include a detailed step-by-step answer for each. Return them as a JSON list "
    'of objects with "instruction" and "response" keys.'
)


def main(base_url: str, cache_dir: str, rounds: int) -> None:
    data = [{"instruction": TEMPLATE.format(topic=t)} for _ in range(rounds) for t in TOPICS]
    with Pipeline(name="dg-synthetic-data", cache_dir=cache_dir) as pipeline:
        load = LoadDataFromDicts(data=data, batch_size=20)
        generate = TextGeneration(
            llm=OpenAILLM(
                model="stub-thinker", base_url=base_url, api_key="sk-distiller", max_retries=0, timeout=30
            ),
            input_batch_size=20,  # 20 generations in flight at once
        )
        load >> generate
    distiset = pipeline.run(use_cache=False)
    rows = distiset["default"]["train"].to_list()
    print(json.dumps({"rows": len(rows), "generations": sum(1 for r in rows if r.get("generation"))}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
