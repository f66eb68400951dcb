"""Headless Chromium driven by selenium for the task pane's tests (Debian's chromium + chromium-driver)."""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(Path(path).name)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


class Browser:
    """One headless Chromium window.

    Args:
        profile: A fresh folder for the browser profile.
        downloads: Where downloads land.
        artifacts: Where screenshots are saved.
        width: Window width in CSS pixels.
        height: Window height.
    """

    def __init__(self, profile: Path, downloads: Path, artifacts: Path, width: int, height: int) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium look for drivers online
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            opts.add_argument(flag)
        opts.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        if width < 500:  # Chromium's windows are at least 500 px wide: narrow the viewport itself
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
        self.downloads = downloads
        self.artifacts = artifacts
        self.console: list[str] = []

    # -- finding and waiting -------------------------------------------------------------------

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
            except Exception as exc:  # noqa: BLE001 - element not there yet
                last = exc
            else:
                if last:
                    return last
            time.sleep(0.05)
        self.shot("timeout-" + what.replace(" ", "-")[:40])
        raise AssertionError(f"timed out waiting for {what} (last: {last!r}); page status: {self.status()}")

    def visible(self, selector: str) -> Any:
        return self.wait(lambda: (e := self.css(selector)).is_displayed() and e, f"{selector} visible")

    def status(self) -> str:
        return str(
            self.js(
                "return [...document.querySelectorAll('[role=status],[role=alert]')]"
                ".map(e => e.textContent.trim()).filter(Boolean).join(' | ')"
            )
        )

    # -- keyboard ---------------------------------------------------------------------------

    def keys(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        chain = ActionChains(self.driver)
        for k in keys:
            chain.send_keys(k)
        chain.perform()

    def active(self) -> dict[str, Any]:
        return dict(
            self.js(
                "const e = document.activeElement; const s = getComputedStyle(e);"
                "return {id: e.id, tag: e.tagName.toLowerCase(), type: e.type || '', value: e.value || '',"
                " text: (e.textContent || '').trim().slice(0, 80), outline: s.outlineStyle,"
                " outlineWidth: s.outlineWidth, checked: !!e.checked};"
            )
        )

    def tab_until(self, predicate: Callable[[dict[str, Any]], bool], what: str, limit: int = 40) -> None:
        from selenium.webdriver.common.keys import Keys

        for _ in range(limit):
            self.keys(Keys.TAB)
            if predicate(self.active()):
                return
        raise AssertionError(f"Tab never reached {what}; focus is on {self.active()}")

    # -- evidence ---------------------------------------------------------------------------

    def shot(self, name: str) -> Path:
        """A full-page screenshot saved as an artifact."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = dict(metrics.get("cssContentSize") or metrics["contentSize"])
        size["width"] = max(size["width"], self.js("return window.innerWidth"))
        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        path = self.artifacts / f"{name}.png"
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the window (0: no horizontal scroll)."""
        return int(
            self.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        )

    def downloaded(self, name: str, timeout: float = 20.0) -> Path:
        path = self.downloads / name
        self.wait(
            lambda: path.exists() and not list(self.downloads.glob("*.crdownload")),
            f"download of {name}",
            timeout,
        )
        return path

    def errors(self) -> list[str]:
        """Errors the page logged to the console since the last call (script errors, failed loads)."""
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def quit(self) -> None:
        self.driver.quit()
