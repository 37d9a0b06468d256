"""The page in a real browser: Playwright driving Debian's chromium (`make setup` installs it as root; CI
does). Flows: paste a story, plan it, play a track (the audio element receives bytes), download the
playlist (relative paths), read along (scrolling changes the playing scene), the library filter applied
to the map, and a 390 px screen without sideways overflow. Screenshots are written under pytest's tmp
dir (and under $STORYSCORE_ARTIFACTS when set, for CI to keep).

These tests never skip: without chromium they fail with the command that installs it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these

CHROMIUM = os.environ.get("STORYSCORE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
STORY = "\n\n".join([
    "# The Storm",
    "The children played in the meadow, laughing in the warm sun. Everyone was happy and the birds sang. "
    "They ran down to the river and splashed in the bright water until noon.",
    "Then the sky went black. Thunder roared and the wolves howled in the dark forest; the children ran in "
    "terror through the screaming wind, and something huge crashed through the trees behind them.",
    "At last they reached home, safe and warm by the fire, and their mother held them close. "
    "The kettle sang softly and the cat slept on the rug while the rain fell gently outside.",
])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install it (as root: apt-get install -y chromium, "
                    "which `make setup` does) or set STORYSCORE_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """`shot(page, name)` saves a screenshot; kept in tmp_path and copied to $STORYSCORE_ARTIFACTS."""
    taken: list[Path] = []

    def shot(page: Any, name: str) -> Path:
        path = tmp_path / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    yield shot
    if keep := os.environ.get("STORYSCORE_ARTIFACTS"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copy(path, Path(keep) / path.name)


def _plan(page: Any, web: Any, scenes: int = 3) -> None:
    page.goto(web.url + "/")
    page.click("nav button[data-tab=plan]")
    page.fill("#plan-text", STORY)
    page.fill("#plan-scenes", str(scenes))
    page.click("#plan-go")
    page.wait_for_selector("#plan-count", timeout=90_000)


def test_paste_plan_play_download(browser: Any, web_server: Any, shots: Any, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _plan(page, web_server)
    assert page.inner_text("#plan-count") == "3 scenes"
    assert page.locator("#scene-cards .card").count() == 3
    assert page.locator("#arc line.arc-valence").count() == 3  # the arc is drawn, with a y-axis
    assert "+1" in page.text_content("#arc") and "-1" in page.text_content("#arc")
    shots(page, "plan")

    # play the first scene's track: the audio element fetches and decodes bytes from /audio/ID
    audio = page.locator("#scene-cards audio").first
    audio.evaluate("a => { a.preload = 'auto'; a.muted = true; return a.play(); }")
    page.wait_for_function("() => { const a = document.querySelector('#scene-cards audio');"
                           " return a.readyState >= 2 && a.currentTime > 0; }", timeout=30_000)
    assert audio.evaluate("a => a.duration") > 5

    with page.expect_download() as info:
        page.click("#dl-m3u")
    m3u = Path(info.value.path()).read_text()
    assert m3u.startswith("#EXTM3U") and m3u.count("#EXTINF") >= 1
    assert str(web_server.library) not in m3u and not any(line.startswith("/") for line in m3u.splitlines())
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
    context.close()


def test_read_along_follows_scrolling(browser: Any, web_server: Any, shots: Any) -> None:
    page = browser.new_page(viewport={"width": 900, "height": 500})
    _plan(page, web_server)
    page.click("#to-read")
    page.wait_for_selector("#readalong .scene-block")
    assert page.locator("#readalong .scene-block").count() == 3
    assert "The children played" in page.inner_text("#readalong")
    page.click("#read-start")
    page.wait_for_function("() => document.querySelector('#readalong').dataset.playing === '0'")
    page.wait_for_function("() => { const a = [...document.querySelectorAll('#ra-a, #ra-b')].find(x => !x.paused);"
                           " return a && a.readyState >= 2; }", timeout=30_000)
    shots(page, "scene1")
    for k in (2, 1):
        # the reader's eye on scene k: its first line a third of the way down the screen
        page.evaluate(f"() => {{ const b = document.querySelector('.scene-block[data-scene=\"{k}\"]');"
                      " window.scrollTo(0, b.getBoundingClientRect().top + window.scrollY - innerHeight * 0.3); }")
        page.wait_for_function(f"() => document.querySelector('#readalong').dataset.playing === '{k}'", timeout=10_000)
        assert page.locator(f".scene-block[data-scene='{k}']").get_attribute("class").endswith("playing")
    shots(page, "scene2")
    page.close()


def test_library_filter_applies_to_map_and_small_screens_do_not_overflow(browser: Any, web_server: Any,
                                                                         shots: Any) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _plan(page, web_server)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    shots(page, "plan-390")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    page.click("nav button[data-tab=library]")
    page.wait_for_selector("#lib-table tr.track")
    total = page.locator("#va-plot circle.track-dot").count()
    assert total == page.locator("#lib-table tr.track").count() >= 3
    assert page.locator("#va-plot .scene-mark").count() == 3  # the plan's scenes over the library map
    page.fill("#lib-filter", "slow/")
    assert page.locator("#lib-table tr.track").count() == 1 == page.locator("#va-plot circle.track-dot").count()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shots(page, "library-390")
    page.close()


def test_a_chosen_file_is_shown_and_typing_replaces_it(browser: Any, web_server: Any, tmp_path: Path) -> None:
    story = tmp_path / "chosen.txt"
    story.write_text(STORY)
    page = browser.new_page()
    page.goto(web_server.url + "/")
    page.click("nav button[data-tab=plan]")
    page.set_input_files("#plan-file", str(story))
    assert "chosen.txt" in page.inner_text("#plan-file-chip")
    page.fill("#plan-text", "Typed instead.")
    assert page.locator("#plan-file-chip").is_hidden()
    assert page.evaluate("() => document.querySelector('#plan-file').files.length") == 0
    page.close()
