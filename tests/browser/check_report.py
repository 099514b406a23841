#!/usr/bin/python3
"""Opens a `recorder report` page in headless Chromium (Debian's chromium
and chromium-driver, through Selenium) and checks it the way a person would
look at it; or, with --measure, prints how long it took to become usable.

Waits are WebDriverWait conditions on the page's own state (the page sets
<html data-ready="1"> when it has drawn everything), never fixed sleeps.
Exit status 0 when every check passed; the failed check is printed.
"""

import argparse
import json
import pathlib
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SECTIONS = ["verdict", "processes", "timeline", "errors", "latency", "search"]


def browser(width, height):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", "--hide-scrollbars"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def load(d, page, timeout):
    t0 = time.monotonic()
    d.get(pathlib.Path(page).resolve().as_uri())
    WebDriverWait(d, timeout).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready") == "1")
    return time.monotonic() - t0


def search(d, text, timeout=60):
    box = d.find_element(By.ID, "search-input")
    box.clear()
    box.send_keys(text)
    WebDriverWait(d, timeout).until(
        lambda d: d.find_element(By.ID, "search-status").get_attribute("data-done"))
    return d.find_elements(By.CSS_SELECTOR, "#search-results li")


def check(d, args):
    def fail(msg):
        raise AssertionError(msg)

    load(d, args.page, 60)
    for s in SECTIONS:
        el = d.find_elements(By.ID, s)
        if not el or not el[0].find_elements(By.TAG_NAME, "h2"):
            fail(f"section #{s} missing")
    info = d.find_element(By.ID, "info").text
    if "verdict" not in info or "machine" not in info:
        fail(f"the context is not recorder info's text: {info[:200]!r}")
    errno, path = args.expect_error.split(":", 1)
    if not errno or not path:
        fail(f"--expect-error wants ERRNO:PATH, both non-empty, not {args.expect_error!r}")
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in d.find_elements(By.CSS_SELECTOR, "#error-table tr")]
    if not any(errno in r and path in r for r in rows):
        fail(f"no {errno} on {path} in the error table: {rows}")
    if args.expect_crash:
        badges = [b.text for b in d.find_elements(By.CSS_SELECTOR, "#processes .badge.crash")]
        if not any(args.expect_crash in b for b in badges):
            fail(f"no crash by {args.expect_crash} in the process tree: {badges}")
    if args.expect_slow:
        slow = [li.get_attribute("textContent")
                for li in d.find_elements(By.CSS_SELECTOR, "#slowest-calls li")][:3]
        if not any(args.expect_slow in s for s in slow):
            fail(f"no {args.expect_slow} among the 3 slowest calls: {slow}")
    hits = search(d, path)
    if not any(path in h.text and errno in h.text for h in hits):
        fail(f"searching {path!r} does not find the failed call: {[h.text for h in hits]}")
    # A click on the result shows the call on the timeline, as a span.
    hits[0].click()
    tl = d.execute_script("return window.reportTimeline")
    if tl["mode"] != "spans" or tl["visible"] < 1:
        fail(f"the timeline does not show the call: {tl}")
    d.execute_script("window.scrollTo(0, 0)")
    height = d.execute_script("return document.body.scrollHeight")
    d.set_window_size(1400, min(max(height + 50, 900), 1900))
    d.save_screenshot(args.screenshot)
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    if errors:
        fail(f"console errors: {errors}")
    print(f"check_report: all checks passed; screenshot {args.screenshot}")


def measure(d, args):
    """Time until interactive (navigation to data-ready), the first draw,
    a redraw zoomed out and a search, as JSON on stdout."""
    wall = load(d, args.page, 600)
    ready_ms = d.execute_script("return window.reportReadyMs")
    first = d.execute_script("return window.reportTimeline")
    t0 = time.monotonic()
    search(d, args.search or "ENOENT", 600)
    search_s = time.monotonic() - t0
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    print(json.dumps({"ready_ms": ready_ms, "load_s": wall, "draw_ms": first["drawMs"],
                      "mode": first["mode"], "search_s": search_s, "console_errors": len(errors)}))
    if errors:
        sys.exit(f"console errors: {errors}")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("page")
    p.add_argument("--measure", action="store_true")
    p.add_argument("--expect-error", default="ENOENT:/nonexistent/recorder-fixture", help="ERRNO:PATH")
    p.add_argument("--expect-crash", help="the signal a process of the tree crashed with")
    p.add_argument("--expect-slow", help="text of one of the 3 slowest calls (a syscall name)")
    p.add_argument("--search")
    p.add_argument("--screenshot", default="report.png")
    args = p.parse_args()
    d = browser(1400, 900)
    try:
        (measure if args.measure else check)(d, args)
    except AssertionError as e:
        sys.exit(f"check_report: FAILED: {e}")
    finally:
        d.quit()


if __name__ == "__main__":
    main()
