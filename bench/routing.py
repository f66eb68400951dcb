"""Routing-decision time vs a bare tag-subset loop, for catalogs of 5, 50 and 500 models.

Run by hand: ``.venv/bin/python bench/routing.py``. Prints the median time of one
``Router.route`` call (all hard constraints, scoring and ordering; rejection reasons
are rendered only when read) beside bare Python loops that only check
``requires <= capabilities``, measured in the same run, and the ratios. "cold" is the
first call of a (tags, sensitivity) shape, before the router has indexed it. Target: within 4x of the bare loop at 50 models, growing
no worse than linearly with the catalog.
"""

from __future__ import annotations

import random
import statistics
import time

from dualtrack import ModelCard, Policy, Requirements, Router, Sensitivity

TAGS = ["chat", "json", "tools", "code", "reasoning", "summarize", "rewrite", "long-context", "vision"]


def catalog(n: int, rng: random.Random) -> list[ModelCard]:
    levels = list(Sensitivity)
    return [
        ModelCard(
            name=f"model-{i:04d}",
            track=rng.choice(["partner", "in-house"]),
            capabilities=frozenset(rng.sample(TAGS, rng.randint(2, len(TAGS)))),
            context_window=rng.choice([2048, 8192, 32_768, 128_000]),
            cost_input=rng.uniform(0, 10),
            cost_output=rng.uniform(0, 30),
            latency_ms=rng.uniform(100, 5000),
            quality=rng.random(),
            clearance=rng.choice(levels),
            enabled=rng.random() > 0.1,
        )
        for i in range(n)
    ]


def median_ns(fn, repeat: int) -> float:
    samples = []
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in range(repeat):
            fn()
        samples.append((time.perf_counter_ns() - start) / repeat)
    return statistics.median(samples)


def main() -> None:
    rng = random.Random(42)
    req = Requirements(
        requires=frozenset({"chat", "json"}),
        prefers=frozenset({"reasoning"}),
        sensitivity=Sensitivity.CONFIDENTIAL,
        input_tokens=3000,
        output_tokens=512,
        skill="document.summarize",
    )
    print("bare loop A: [c for c in caps if requires <= c] over pre-extracted tag sets")
    print("bare loop B: [c for c in cards if requires <= c.capabilities] over the ModelCard objects")
    print(
        "route: steady state (a shape of call seen before); cold: first call of its (tags, sensitivity) shape"
    )
    print(
        f"{'models':>7} {'route (us)':>11} {'cold (us)':>10} {'loop A (us)':>12} {'ratio A':>8} {'cold/A':>7}"
        f" {'loop B (us)':>12} {'ratio B':>8} {'us/model':>9}"
    )
    for n in (5, 50, 500):
        cards = catalog(n, rng)
        router = Router(cards, Policy(objective="balanced"))
        caps = [c.capabilities for c in cards]
        requires = req.requires

        def bare(caps=caps, requires=requires):
            return [c for c in caps if requires <= c]

        def bare_cards(cards=cards, requires=requires):
            return [c for c in cards if requires <= c.capabilities]

        repeat = max(200, 200_000 // n)
        t_route = median_ns(lambda router=router: router.route(req), repeat) / 1000

        def cold(router=router):
            router._eligible.clear()  # forget the (tags, sensitivity) index: first call of a shape
            return router.route(req)

        t_cold = median_ns(cold, repeat) / 1000
        t_bare = median_ns(bare, repeat) / 1000
        t_cards = median_ns(bare_cards, repeat) / 1000
        print(
            f"{n:>7} {t_route:>11.2f} {t_cold:>10.2f} {t_bare:>12.2f} {t_route / t_bare:>7.1f}x"
            f" {t_cold / t_bare:>6.1f}x {t_cards:>12.2f}"
            f" {t_route / t_cards:>7.1f}x {t_route / n:>9.3f}"
        )


if __name__ == "__main__":
    main()
