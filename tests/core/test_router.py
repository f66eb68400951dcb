"""Router: hard constraints, scoring, explanations, determinism (with properties)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualtrack import ModelCard, NoRouteError, Policy, Requirements, Router, Sensitivity, Track

TAGS = ["chat", "json", "code", "reasoning", "summarize", "long-context"]


def card(name, track="partner", caps=("chat",), clearance="general", window=8192, cin=1.0, cout=2.0, **kw):
    return ModelCard(
        name=name,
        track=track,
        capabilities=frozenset(caps),
        clearance=clearance,
        context_window=window,
        cost_input=cin,
        cost_output=cout,
        **kw,
    )


CATALOG = [
    card("gpt-big", caps=("chat", "json", "code", "reasoning"), cin=5, cout=15, quality=0.9, latency_ms=2000),
    card("gpt-mini", caps=("chat", "json", "code"), cin=0.15, cout=0.6, quality=0.6, latency_ms=800),
    card(
        "local",
        track="in-house",
        caps=("chat", "json"),
        clearance="highly-confidential",
        window=2048,
        cin=0,
        cout=0,
        quality=0.2,
        latency_ms=1500,
    ),
    card("off", enabled=False, disabled_reason="OPENAI_API_KEY not set"),
]


def test_hard_constraints_and_reasons():
    router = Router(CATALOG)
    d = router.route(Requirements(requires=frozenset({"code"}), sensitivity=Sensitivity.CONFIDENTIAL))
    assert d.candidates == ()
    reasons = {r.model: r.reason for r in d.rejections}
    assert reasons == {
        "gpt-big": "clearance general < confidential",
        "gpt-mini": "clearance general < confidential",
        "local": "missing tags code",
        "off": "disabled (OPENAI_API_KEY not set)",
    }
    with pytest.raises(NoRouteError) as err:
        router.require(Requirements(requires=frozenset({"code"}), sensitivity=Sensitivity.CONFIDENTIAL))
    msg = str(err.value)
    assert "add a model with tag(s) code" in msg and "clearance confidential or higher" in msg


def test_context_window_and_unavailable():
    router = Router(CATALOG)
    d = router.route(
        Requirements(requires=frozenset({"chat"}), input_tokens=3000, output_tokens=500),
        unavailable={"gpt-mini": "circuit open"},
    )
    assert d.order == ["gpt-big"]
    reasons = {r.model: r.reason for r in d.rejections}
    assert reasons["local"] == "context window 2048 < 3500 tokens needed"
    assert reasons["gpt-mini"] == "circuit open"


def test_objectives_order_candidates():
    req = Requirements(requires=frozenset({"chat"}), input_tokens=100, output_tokens=100)
    assert Router(CATALOG, Policy(objective="cost")).route(req).chosen == "local"
    assert Router(CATALOG, Policy(objective="quality")).route(req).chosen == "gpt-big"
    assert Router(CATALOG, Policy(objective="latency")).route(req).chosen == "gpt-mini"


def test_prefer_track_prefers_tags_pin_and_deny():
    req = Requirements(requires=frozenset({"chat"}), skill="doc.summarize")
    balanced = Router(CATALOG, Policy(objective="balanced")).route(req)
    in_house = Router(CATALOG, Policy(objective="balanced", prefer_track=Track.IN_HOUSE)).route(req)
    assert in_house.order.index("local") < balanced.order.index("local")
    pinned = Router(CATALOG, Policy(objective="cost", pin={"doc.summarize": ["gpt-big", "gpt-mini"]})).route(
        req
    )
    assert pinned.order[:2] == ["gpt-big", "gpt-mini"]
    plugin_pin = Router(CATALOG, Policy(objective="cost", pin={"doc": ["gpt-mini"]})).route(req)
    assert plugin_pin.chosen == "gpt-mini"
    denied = Router(CATALOG, Policy(deny={"doc.summarize": ["gpt-big"]})).route(req)
    assert "gpt-big" not in denied.order
    assert any(r.model == "gpt-big" and "denied" in r.reason for r in denied.rejections)
    twins = [card("a", caps=("chat",)), card("b", caps=("chat", "code"))]
    req_pref = Requirements(requires=frozenset({"chat"}), prefers=frozenset({"code"}))
    assert Router(twins).route(req_pref).chosen == "b"
    assert Router(twins).route(Requirements(requires=frozenset({"chat"}))).chosen == "a"  # tie -> name


def test_explain_lists_every_model():
    d = Router(CATALOG).route(Requirements(requires=frozenset({"json"}), skill="x.y"))
    text = d.explain()
    assert text.splitlines()[0].startswith("route for x.y: requires [json]")
    assert "chosen" in text and "fallback #1" in text and "rejected: disabled" in text
    for c in CATALOG:
        assert c.name in text
    assert d.to_dict()["candidates"][0]["model"] == d.chosen


def test_empty_catalog_explains():
    d = Router([]).route(Requirements())
    assert "catalog is empty" in d.explain()
    with pytest.raises(NoRouteError, match="configure at least one model"):
        Router([]).require(Requirements())


# -- properties -------------------------------------------------------------------------------

levels = st.sampled_from(list(Sensitivity))
cards = st.builds(
    lambda i, caps, clr, win, cin, cout, lat, q, en, tr: card(
        f"m{i}",
        track=tr,
        caps=caps,
        clearance=clr,
        window=win,
        cin=cin,
        cout=cout,
        latency_ms=lat,
        quality=q,
        enabled=en,
    ),
    st.integers(0, 10_000),
    st.frozensets(st.sampled_from(TAGS), max_size=len(TAGS)),
    levels,
    st.integers(1, 200_000),
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 10_000, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
    st.booleans(),
    st.sampled_from(list(Track)),
)
catalogs = st.lists(cards, max_size=30, unique_by=lambda c: c.name)
requirements = st.builds(
    Requirements,
    requires=st.frozensets(st.sampled_from(TAGS), max_size=3),
    prefers=st.frozensets(st.sampled_from(TAGS), max_size=3),
    sensitivity=levels,
    input_tokens=st.integers(0, 100_000),
    output_tokens=st.integers(0, 4_000),
    skill=st.sampled_from([None, "a.b", "c.d"]),
)
policies = st.builds(
    Policy,
    objective=st.sampled_from(["cost", "quality", "latency", "balanced"]),
    prefer_track=st.sampled_from([None, *Track]),
)


@settings(max_examples=300, deadline=None)
@given(catalogs, requirements, policies, st.data())
def test_property_no_candidate_violates_a_hard_constraint(catalog, req, policy, data):
    names = [c.name for c in catalog]
    unavailable = {
        n: "circuit open" for n in data.draw(st.lists(st.sampled_from(names) if names else st.nothing()))
    }
    d = Router(catalog, policy).route(req, unavailable)
    by_name = {c.name: c for c in catalog}
    for cand in d.candidates:
        c = by_name[cand.model]
        assert c.enabled and cand.model not in unavailable
        assert req.requires <= c.capabilities
        assert req.sensitivity <= c.clearance
        assert req.tokens <= c.context_window
    # every model is either a candidate or has a rejection reason, never both
    cands = [c.model for c in d.candidates]
    rejected = [r.model for r in d.rejections]
    assert sorted(cands + rejected) == sorted(names)
    assert all(r.reason for r in d.rejections)
    # deterministic: same inputs, same order; input order of the catalog does not matter
    again = Router(list(reversed(catalog)), policy).route(req, dict(unavailable))
    assert again.order == d.order
    assert [(r.model, r.reason) for r in again.rejections] == [(r.model, r.reason) for r in d.rejections]
