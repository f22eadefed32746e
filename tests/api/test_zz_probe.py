import json
import pytest
from tests.api.factories import make_world

async def test_probe(client, auth):
    w = await make_world(client, auth)
    pm = w.pm
    out = []
    async def post(url, body, raw=None, headers=None):
        h = {**pm, **(headers or {})}
        if raw is not None:
            r = await client.post(url, content=raw, headers={**h, "content-type": "application/json"})
        else:
            r = await client.post(url, json=body, headers=h)
        out.append((url, (raw or json.dumps(body))[:80], r.status_code, r.text[:150]))
        return r
    await post("/api/v1/stories", {"product_id": w.pid, "title": "a\x00b"})
    await post("/api/v1/stories", {"product_id": w.pid, "title": "x", "persona": "p"*150})
    await post("/api/v1/roadmap-items", {"product_id": w.pid, "title": "x", "theme": "p"*150})
    await post("/api/v1/roadmap-items", None, raw='{"product_id": "%s", "title": "x", "confidence": NaN, "effort": NaN, "reach": 1, "impact": 1}' % w.pid)
    await post("/api/v1/roadmap-items", None, raw='{"product_id": "%s", "title": "\\ud800"}' % w.pid)
    await post("/api/v1/roadmap-items", {"product_id": w.pid, "title": "x", "target_quarter": "٢٠٢٤-Q1"})
    await post("/api/v1/roadmap-items", None, raw="[" * 5000 + "]" * 5000)
    await post("/api/v1/interviews", {"product_id": w.pid, "title": "x", "conducted_on": 10**12, "participant_persona": "nurse"})
    await post("/api/v1/interviews", {"product_id": w.pid, "title": "x", "conducted_on": "2024-01-01", "participant_persona": "nurse", "transcript": "a\x00"})
    r = await client.post("/api/v1/stories", content=json.dumps({"product_id": w.pid, "title": "x"}), headers={**pm, "content-type": "text/plain"})
    out.append(("ctype", "", r.status_code, r.text[:200]))
    async def gen():
        for _ in range(20):
            yield b" " * 100_000
    r = await client.post("/api/v1/stories", content=gen(), headers={**pm, "content-type": "application/json"})
    out.append(("chunked", "", r.status_code, r.text[:200]))
    r = await client.get("/api/v1/stories?sprint=a%00b", headers=pm)
    out.append(("sprint", "", r.status_code, r.text[:200]))
    r = await client.get("/api/v1/stories/AB%00-1", headers=pm)
    out.append(("key", "", r.status_code, r.text[:200]))
    r = await client.put("/api/v1/stories", headers=pm)
    out.append(("405", "", r.status_code, r.text[:200], dict(r.headers)))
    import base64
    for v in ([1, 2], "zzz", {"a": 1}, 10**30, True):
        cur = base64.urlsafe_b64encode(json.dumps({"s": "-rice_score", "v": v, "i": "00000000-0000-0000-0000-000000000000"}).encode()).decode().rstrip("=")
        r = await client.get(f"/api/v1/roadmap-items?sort=-rice_score&cursor={cur}", headers=pm)
        out.append(("cursor", str(v), r.status_code, r.text[:200]))
        cur = base64.urlsafe_b64encode(json.dumps({"s": "created_at", "v": v, "i": "00000000-0000-0000-0000-000000000000"}).encode()).decode().rstrip("=")
        r = await client.get(f"/api/v1/roadmap-items?sort=created_at&cursor={cur}", headers=pm)
        out.append(("cursor-dt", str(v), r.status_code, r.text[:200]))
    cur = base64.urlsafe_b64encode(json.dumps({"s": "created_at", "v": {"t": "dt", "v": "2024-01-01T00:00:00"}, "i": "00000000-0000-0000-0000-000000000000"}).encode()).decode().rstrip("=")
    r = await client.get(f"/api/v1/roadmap-items?sort=created_at&cursor={cur}", headers=pm)
    out.append(("cursor-naive", "", r.status_code, r.text[:200]))
    for o in out:
        print(o)
    assert 0
