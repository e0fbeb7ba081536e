"""The web front ends: pages and files are served (their headers: test_headers.py),
and no page needs inline script or style (the Content-Security-Policy forbids them)."""

import re

from handoff_bridge.web import STATIC_DIR


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
