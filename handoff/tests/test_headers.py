"""Security headers: pages and files get a Content-Security-Policy and the other
browser protections, API answers are never rendered, framed or cached, and
HSTS is sent outside development."""

import pytest

PAGES = ["/demo/da", "/demo/sv", "/console/", "/supervisor/"]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_served_with_security_headers(client, path):
    resp = await client.get(path)
    assert resp.status_code == 200, path
    assert resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"] and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    expected_frames = ["'self'"] if path.startswith("/demo") else ["'none'"]
    assert directives["frame-ancestors"] == expected_frames
    host = client.base_url.netloc.decode()
    assert directives["connect-src"] == ["'self'", f"wss://{host}", f"ws://{host}"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"


async def test_a_strange_host_header_does_not_reach_the_policy(client):
    resp = await client.get("/demo/da", headers={"Host": "evil.example; script-src *"})
    csp = resp.headers["content-security-policy"]
    assert "evil" not in csp and "connect-src 'self'; " in csp



@pytest.mark.parametrize("path", ["/healthz", "/api/v1/openapi.json", "/api/v1/agent/me", "/api/v1/nowhere"])
async def test_api_responses_get_security_headers_and_are_never_cached(client, path):
    resp = await client.get(path)
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors 'none'")
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["x-frame-options"] == "DENY"
    # Development: no HSTS (plain http on a laptop).
    assert "strict-transport-security" not in resp.headers


async def test_hsts_outside_development(bridge, client):
    bridge.app.ctx.settings = bridge.deps.settings.model_copy(update={"env": "production"})
    try:
        resp = await client.get("/healthz")
    finally:
        bridge.app.ctx.settings = bridge.deps.settings
    assert resp.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
