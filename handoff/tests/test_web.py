"""The web front ends: pages and files are served with security headers, and
no page needs inline script or style (the Content-Security-Policy forbids them)."""

import re

import pytest

from handoff_bridge.web import STATIC_DIR

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


async def test_demo_pages_embed_the_widget_with_one_script_tag(client):
    da = (await client.get("/demo/da")).text
    sv = (await client.get("/demo/sv")).text
    assert re.search(r'<script src="/widget/ddh-widget.js" data-municipality="\d+" data-language="da" defer></script>', da)
    assert re.search(r'<script src="/widget/ddh-widget.js" data-municipality="\d+" data-language="sv" defer></script>', sv)
    assert '<html lang="da">' in da and '<html lang="sv">' in sv


async def test_widget_files_can_be_loaded_by_other_sites(client):
    js = await client.get("/widget/ddh-widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.headers["cross-origin-resource-policy"] == "cross-origin"
    css = await client.get("/widget/ddh-widget.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_agent_pages_are_not_cached_and_redirects_work(client):
    resp = await client.get("/console/")
    assert resp.headers["cache-control"] == "no-store" and resp.headers["x-frame-options"] == "DENY"
    for path, target in (("/", "/demo/da"), ("/console", "/console/"), ("/supervisor", "/supervisor/")):
        r = await client.get(path, follow_redirects=False)
        assert r.status_code in (301, 302, 307) and r.headers["location"] == target


async def test_nothing_outside_the_static_folders_is_served(client):
    for path in ("/widget/../web.py", "/widget/%2e%2e/web.py", "/shared/../../settings.py", "/widget/missing.js"):
        resp = await client.get(path)
        assert resp.status_code == 404, path


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


def test_pages_and_scripts_need_no_inline_code():
    for html in STATIC_DIR.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {html}"
        assert not re.search(r"\sstyle=", text), f"style attribute in {html}"
        assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {html}"
        assert "<style" not in text, f"style element in {html}"
    for js in STATIC_DIR.rglob("*.js"):
        text = js.read_text(encoding="utf-8")
        # Everything from the server is rendered as text.
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "document.write" not in text, js
        assert "eval(" not in text and "new Function" not in text, js
