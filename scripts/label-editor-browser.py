#!/usr/bin/env python3
"""Drives Debian's headless Chromium through Registrar's label editor (`/label/`).

Run by Tests/RegistrarIntegrationTests/LabelEditorBrowserTests.swift with the tools venv's python
(selenium, Pillow). `--make-images DIR` writes the test's images and exits. Otherwise, against a
real `registrar api` with a project (Annotate → Review → Complete) over three images:

  1. the annotator signs in on /label/ (the projects page, stage counts), opens the editor and
     takes tasks with "Start labelling"; tasks come in the server's order, so each is handled by
     its title:
     - a.png: a box (mouse drag), a polygon (clicks + Enter), a polyline, a point, the box's
       nested radio (Red → Shade text), the global classification; a network cut while
       answering (save state "offline", the local draft kept) and the retry once it is back;
       undo/redo of one extra box; submit;
     - b.png: keyboard only: the class by its number key, a box from the crosshair (arrows +
       Space), the box's radio and the classification by Space on focused radios, Ctrl+Enter;
     - big.jpg (4000×3000, 500 boxes saved beforehand through the API): the time from navigation
       to the task drawn and the render time of 500 boxes are printed; a second browser saves
       a point on the same row first, so this browser's box gets the stale-write message;
       "Reload and merge" keeps both; submit;
  2. the reviewer, per label on a.png: approves the box (key A), rejects the road polygon with a
     comment, then rejects the task (its comment starts as the rejected labels' list); approves
     the other two tasks;
  3. the annotator sees which label was rejected and why, cannot submit before fixing it, drags
     a polygon vertex (the label becomes RESOLVED), resubmits;
  4. the reviewer sees the label RESOLVED and approves the task (every label not rejected is
     approved with it).

Prints one JSON line: what was drawn, in image pixels, per title (the Swift test compares the
exports with it), the timings and the screenshots. Any failed check prints `FAIL: ...`, exit 1.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def make_images(directory):
    from PIL import Image, ImageDraw
    os.makedirs(directory, exist_ok=True)
    for name, size, color in (("a.png", (640, 480), (90, 120, 160)), ("b.png", (640, 480), (150, 110, 80))):
        im = Image.new("RGB", size, color)
        d = ImageDraw.Draw(im)
        for i in range(0, size[0], 40):
            d.line([(i, 0), (i, size[1])], fill=(200, 200, 200))
        im.save(os.path.join(directory, name))
    big = Image.effect_noise((4000, 3000), 40).convert("RGB")
    big.save(os.path.join(directory, "big.jpg"), quality=85)
    print(json.dumps({"a.png": [640, 480], "b.png": [640, 480], "big.jpg": [4000, 3000]}))


class Editor:
    """One browser signed in as one person."""

    def __init__(self, args, key, name, observed):
        self.args, self.key, self.name, self.observed = args, key, name, observed
        opts = Options()
        opts.binary_location = args.chromium
        for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1000",
                  "--no-first-run", "--disable-extensions", "--password-store=basic"):
            opts.add_argument(a)
        if os.geteuid() == 0:
            opts.add_argument("--no-sandbox")
        opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='registrar-editor-')}")
        self.d = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
        self.wait = WebDriverWait(self.d, 20)

    def quit(self):
        self.d.quit()

    def shot(self, name):
        path = os.path.join(self.args.screenshots, name)
        self.d.save_screenshot(path)
        self.observed["screenshots"].append(path)

    def q(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def js(self, script, *a):
        return self.d.execute_script(script, *a)

    def sign_in(self, path):
        self.d.get(self.args.base + path)
        key = self.wait.until(lambda d: d.find_element(By.ID, "key"))
        key.send_keys(self.key)
        key.submit()
        self.wait.until(lambda d: d.current_url.endswith(path))

    def open_editor(self, stage):
        self.d.get(f"{self.args.base}/label/{self.args.project}?stage={stage}")
        self.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")

    def task_title(self):
        return self.js("return app.task ? (app.task.dataTitle || '') : ''")

    def wait_task(self, previous=None, timeout=20):
        WebDriverWait(self.d, timeout).until(
            lambda d: d.execute_script("return app.task ? app.task.uuid : null") not in (None, previous)
            and d.execute_script("return document.body.dataset.openedMs") is not None)
        return self.task_title()

    def wait_saved(self, timeout=20):
        try:
            WebDriverWait(self.d, timeout).until(lambda d: d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved")
        except TimeoutException:
            raise Failure(f"{self.name}: not saved: {self.q('#save-state').text!r} / {self.q('#message').text!r}")

    def save_state(self):
        return self.q("#save-state").get_attribute("data-state")

    # Pointer input at image pixels: offsets from the SVG's centre (W3C actions).
    # Selenium measures offsets from the centre of the element's part inside the viewport (the
    # canvas may reach below it when banners push it down).
    def offset(self, px, py):
        v = self.js("const r = canvas.svg.getBoundingClientRect();"
                    "const cx = (Math.max(r.left, 0) + Math.min(r.right, innerWidth)) / 2, cy = (Math.max(r.top, 0) + Math.min(r.bottom, innerHeight)) / 2;"
                    "return [canvas.s, canvas.tx, canvas.ty, r.left, r.top, cx, cy]")
        s, tx, ty, left, top, cx, cy = v
        return round(left + tx + px * s - cx), round(top + ty + py * s - cy)

    def click_at(self, px, py):
        svg = self.q("#canvas")
        dx, dy = self.offset(px, py)
        ActionChains(self.d).move_to_element_with_offset(svg, dx, dy).click().perform()

    def drag(self, a, b):
        svg = self.q("#canvas")
        (ax, ay), (bx, by) = self.offset(*a), self.offset(*b)
        ActionChains(self.d).move_to_element_with_offset(svg, ax, ay).click_and_hold() \
            .move_to_element_with_offset(svg, (ax + bx) // 2, (ay + by) // 2) \
            .move_to_element_with_offset(svg, bx, by).release().perform()

    def keys(self, *keys):
        ActionChains(self.d).send_keys(*keys).perform()

    def chord(self, modifiers, key):
        """Modifier keys held down while `key` is typed (send_keys would release them first)."""
        a = ActionChains(self.d)
        for m in modifiers:
            a.key_down(m)
        a.send_keys(key)
        for m in reversed(modifiers):
            a.key_up(m)
        a.perform()

    def focus(self, css):
        self.js("document.querySelector(arguments[0]).focus()", css)

    def objects(self):
        return self.js("return app.model.objects.length")

    def act_and_next(self, button, previous):
        """Clicks an action button and waits until the page acted on `previous` and opened the next task (or none)."""
        self.q(button).click()
        self.wait_acted(previous, button)

    def wait_acted(self, previous, what):
        try:
            WebDriverWait(self.d, 20).until(lambda d: d.execute_script("return document.body.dataset.acted") == previous
                                            or d.execute_script("return document.body.dataset.refused") is not None)
        except TimeoutException:
            raise Failure(f"{self.name}: {what} did not finish: {self.q('#message').text!r}")
        check(self.js("return document.body.dataset.refused") is None, f"{self.name}: {what}: {self.q('#message').text!r}")


def annotate_a(ed, o, ont, drawn):
    """Mouse: box, polygon, polyline, point; nested radio; classification; offline save; undo/redo."""
    svg = ed.q("#canvas")
    svg.send_keys("1")                                   # Car: bounding box
    ed.drag((100, 80), (300, 220))
    check(ed.objects() == 1, "the box was not drawn")
    svg.send_keys("2")                                   # Road: polygon
    poly = [(350, 300), (600, 300), (620, 460), (330, 460)]
    for p in poly:
        ed.click_at(*p)
    ed.keys(Keys.ENTER)
    check(ed.objects() == 2, "the polygon was not closed")
    svg.send_keys("3")                                   # Lane: polyline
    line = [(20, 470), (200, 400), (400, 350)]
    for p in line:
        ed.click_at(*p)
    ed.keys(Keys.ENTER)
    svg.send_keys("4")                                   # Sign: point
    ed.click_at(500, 100)
    check(ed.objects() == 4, f"expected 4 labels, have {ed.objects()}")
    # Undo and redo an extra box.
    svg.send_keys("1")
    ed.drag((20, 20), (60, 60))
    check(ed.objects() == 5, "the extra box was not drawn")
    ed.chord([Keys.CONTROL], "z")
    check(ed.objects() == 4, "undo did not remove the extra box")
    ed.chord([Keys.CONTROL, Keys.SHIFT], "z")
    check(ed.objects() == 5, "redo did not bring it back")
    ed.chord([Keys.CONTROL], "z")
    check(ed.objects() == 4, "undo again")
    # Select the car box, answer Color = Red and its nested Shade.
    svg.send_keys("v")
    ed.click_at(200, 150)
    red = ed.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#attributes input[data-option='{ont['red']}']"))
    ed.d.find_element(By.CSS_SELECTOR, f"label[for='{red.get_attribute('id')}']").click()
    shade = ed.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#attributes input[data-attr='{ont['shade']}']"))
    shade.send_keys("dark red", Keys.TAB)
    ed.wait_saved()
    ed.shot("label-editor-annotate.png")
    # A network cut: the classification's save fails, is kept as a draft, and is retried.
    ed.d.set_network_conditions(offline=True, latency=0, download_throughput=-1, upload_throughput=-1)
    day = ed.q(f"#classifications input[data-option='{ont['day']}']")
    ed.d.find_element(By.CSS_SELECTOR, f"label[for='{day.get_attribute('id')}']").click()
    WebDriverWait(ed.d, 15).until(lambda d: ed.save_state() == "offline")
    o["offlineState"] = ed.q("#save-state").text
    draft = ed.js("return localStorage.getItem(app.draftKey())")
    check(draft is not None and ont["day"] in draft, "no local draft while offline")
    ed.shot("label-editor-offline.png")
    ed.d.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)
    ed.wait_saved(timeout=40)
    check(ed.js("return localStorage.getItem(app.draftKey())") is None, "the draft outlived the save")
    drawn["a.png"] = {"box": [100, 80, 300, 220], "polygon": poly, "polyline": line, "point": [500, 100],
                      "color": "red", "shade": "dark red", "classification": "day"}


def annotate_b(ed, o, ont, drawn):
    """Keyboard only: Car by '1', a box from the crosshair, radios by Space, Ctrl+Enter."""
    ed.focus("#canvas")
    k = [Keys.ARROW_LEFT] * 10 + [Keys.ARROW_UP] * 10 + [" "] + [Keys.ARROW_RIGHT] * 20 + [Keys.ARROW_DOWN] * 15 + [" "]
    ed.keys("1", *k)
    check(ed.objects() == 1, f"keyboard box: {ed.objects()} labels")
    blue = ed.q(f"#attributes input[data-option='{ont['blue']}']")
    ed.focus(f"#attributes input[data-option='{ont['blue']}']")
    ed.keys(" ")
    night = f"#classifications input[data-option='{ont['night']}']"
    ed.focus(night)
    ed.keys(" ")
    check(ed.q(night).is_selected() and ed.q(f"#attributes input[data-option='{ont['blue']}']").is_selected(), "radios not answered by keyboard")
    ed.wait_saved()
    ed.shot("label-editor-keyboard.png")
    drawn["b.png"] = {"box": [220, 140, 420, 290], "color": "blue", "classification": "night"}
    return blue


LATENCY_PROBE = """
// Input → next frame: for each pointer event on the canvas, the time from the event's creation
// to the first frame after its handlers ran (requestAnimationFrame, then a task after it).
window.__lat = [];
for (const type of ['pointerdown', 'pointermove', 'pointerup']) canvas.svg.addEventListener(type, (e) => {
  const t0 = e.timeStamp;
  requestAnimationFrame(() => setTimeout(() => window.__lat.push([type, performance.now() - t0]), 0));
}, true);
"""


def latencies(ed, *kinds):
    time.sleep(0.4)
    got = [ms for t, ms in ed.js("const l = window.__lat; window.__lat = []; return l") if t in kinds]
    check(got, f"no {kinds} events were timed")
    return got


def measure_500(ed, o):
    """With 500 boxes on the 4,000×3,000 image: the time to select a box, each frame of dragging
    it, dropping it, and adding a box (input event → next frame), then both undone."""
    ed.js(LATENCY_PROBE)
    svg = ed.q("#canvas")
    svg.send_keys("v")
    ed.js("window.__lat = []")
    ed.click_at(1660, 1560)                        # box 260 (x 1600–1720, y 1500–1620)
    check(ed.js("return canvas.selected") == "bx000260", f"selected {ed.js('return canvas.selected')!r}, not bx000260")
    o["select500Ms"] = max(latencies(ed, "pointerdown", "pointerup"))
    # Drag it 400 px right in 20 pointer moves.
    (ax, ay) = ed.offset(1660, 1560)
    chain = ActionChains(ed.d).move_to_element_with_offset(svg, ax, ay).click_and_hold()
    for _ in range(20):
        chain = chain.move_by_offset(round(400 * ed.js("return canvas.s") / 20), 0)
    ed.js("window.__lat = []")
    chain.release().perform()
    time.sleep(0.4)
    lat = ed.js("const l = window.__lat; window.__lat = []; return l")
    moves = sorted(ms for t, ms in lat if t == "pointermove")
    check(len(moves) >= 10, f"only {len(moves)} pointer moves were timed")
    o["moveFrameMedianMs"] = moves[len(moves) // 2]
    o["moveFrameMaxMs"] = moves[-1]
    o["dropMs"] = max(ms for t, ms in lat if t == "pointerup")
    x = ed.js("return app.object('bx000260').box.x")
    check(x > 0.45, f"the dragged box is at x={x}, not moved ~400 px right of 0.4")
    # Add a box with 500 present.
    svg.send_keys("1")
    ed.js("window.__lat = []")
    ed.drag((2100, 1000), (2300, 1200))
    check(ed.objects() == 501, f"the added box: {ed.objects()} labels")
    o["add500Ms"] = max(latencies(ed, "pointerup"))
    ed.chord([Keys.CONTROL], "z")
    ed.chord([Keys.CONTROL], "z")
    check(ed.objects() == 500 and abs(ed.js("return app.object('bx000260').box.x") - 0.4) < 1e-9, "undo did not restore the 500 boxes")
    svg.send_keys("v")
    ed.wait_saved()


def annotate_big(ed, o, ont, drawn, args):
    """500 boxes: timings; a second browser saves first, this one is told and loses nothing."""
    # The first open, through "Start labelling"/Submit (the image not in the browser's cache yet).
    o["firstOpenMs"] = float(ed.js("return document.body.dataset.openMs"))
    o["firstMediaMs"] = float(ed.js("return document.body.dataset.mediaMs"))
    # A fresh navigation to the editor: the task this person holds opens by itself, so
    # openedMs is navigation start → the 4,000×3,000 image and its 500 boxes drawn.
    ed.open_editor(args.annotate_stage)
    check(ed.task_title() == "big.jpg", f"reopening the editor gave {ed.task_title()!r}")
    o["openedMs"] = float(ed.js("return document.body.dataset.openedMs"))
    o["mediaMs"] = float(ed.js("return document.body.dataset.mediaMs"))
    check(ed.objects() == 500, f"expected the 500 stored boxes, have {ed.objects()}")
    o["render500Ms"] = float(ed.js("canvas.render(); return canvas.lastRenderMs"))
    measure_500(ed, o)
    # Responsiveness: select and drag a box among 500, timed end to end in the page.
    ed.shot("label-editor-500-boxes.png")
    other = Editor(args, args.annotator_key, "second browser", o)
    try:
        other.sign_in(f"/label/{args.project}?stage={args.annotate_stage}")
        other.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        check(other.task_title() == "big.jpg", f"the second browser opened {other.task_title()!r}")
        other.q("#canvas").send_keys("4")
        other.click_at(3000, 2500)
        other.wait_saved()
        drawn["big.jpg"] = {"point": other.js("const o = app.model.objects[app.model.objects.length - 1]; return [o.points[0][0] * 4000, o.points[0][1] * 3000]")}
    finally:
        other.quit()
    ed.q("#canvas").send_keys("1")
    ed.drag((400, 300), (1600, 1300))
    try:
        WebDriverWait(ed.d, 15).until(lambda d: ed.save_state() == "stale")
    except TimeoutException:
        raise Failure(f"no stale-write state after the second browser's save: {ed.q('#save-state').text!r}")
    o["staleMessage"] = ed.q("#banner-text").text
    check(ed.q("#banner").is_displayed() and ed.q("#reload").is_displayed(), "no stale-write banner with a reload button")
    ed.shot("label-editor-stale.png")
    mine = ed.js("const o = app.model.objects[app.model.objects.length - 1]; return [o.box.x * 4000, o.box.y * 3000, (o.box.x + o.box.w) * 4000, (o.box.y + o.box.h) * 3000]")
    ed.q("#reload").click()
    ed.wait_saved()
    check(ed.objects() == 502, f"after reload and merge: {ed.objects()} labels, expected 502")
    drawn["big.jpg"]["box"] = mine


def reject_one_label(rev, o, uuid):
    """Per-label review on a.png: the box approved with the `A` key, the road polygon rejected with
    a comment; the task's rejection comment starts as the list of rejected labels."""
    rev.click_at(200, 150)                         # the car box
    check(rev.js("return app.object(canvas.selected).shape") == "bounding_box", "the reviewer did not select the box")
    rev.q("#canvas").send_keys("a")
    check(rev.js("return review.status(app.object(canvas.selected))") == "APPROVED", "A did not approve the box")
    rev.click_at(480, 400)                         # inside the polygon
    check(rev.js("return app.object(canvas.selected).shape") == "polygon", "the reviewer did not select the polygon")
    rev.q("#attributes .reject-label").click()     # no comment yet: refused in the page
    check(rev.js("return review.status(app.object(canvas.selected))") is None, "a label was rejected without a comment")
    rev.q("#attributes .reject-label-comment").send_keys("The road polygon misses the kerb on the right.")
    rev.q("#attributes .reject-label").click()
    check(rev.js("return review.status(app.object(canvas.selected))") == "REJECTED", "the polygon was not rejected")
    rev.wait_saved()
    o["labelBadges"] = [b.text for b in rev.d.find_elements(By.CSS_SELECTOR, "#objects button")]
    rev.shot("label-review-label-rejected.png")
    rev.q("#reject").click()
    o["taskRejectComment"] = rev.q("#reject-comment").get_attribute("value")
    rev.shot("label-review-reject.png")
    rev.act_and_next("#reject-confirm", uuid)


def fix_rejected_label(ann, o):
    """The annotator sees which label was rejected and why, may not submit before fixing it,
    fixes it (a vertex dragged: RESOLVED), and the list of rejected labels empties."""
    ann.wait.until(lambda d: d.find_element(By.ID, "rejected-labels").is_displayed())
    o["rejectedLabels"] = ann.q("#rejected-labels").text
    ann.shot("label-editor-rejected.png")
    ann.q("#submit").click()
    check(ann.js("return document.body.dataset.refused") == "SUBMIT", "a task with a rejected label was submitted")
    o["submitWhileRejected"] = ann.q("#message").text
    ann.js("delete document.body.dataset.refused")
    ann.q("#rejected-labels button[data-rejected]").click()   # selects the rejected label
    check(ann.js("return app.object(canvas.selected).shape") == "polygon", "the rejected label's button did not select the polygon")
    o["rejectedPanel"] = ann.q("#attributes .review").text
    ann.drag((600, 300), (630, 280))           # its second vertex's handle
    ann.wait_saved()
    check(ann.js("return review.status(app.object(canvas.selected))") == "RESOLVED", "the fixed label is not RESOLVED")
    check(not ann.q("#rejected-labels").is_displayed(), "the rejected list still shows after the fix")



def driver_arguments(*flags):
    """The arguments every editor driver takes (the server, the project and annotator, where
    screenshots go, the browser), plus `flags` (plain string options) of its own."""
    ap = argparse.ArgumentParser()
    for flag in flags + ("--base", "--project", "--annotator-key", "--annotate-stage", "--screenshots"):
        ap.add_argument(flag)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    return ap


def run_and_report(run, args):
    """Runs `run(args, o)`; `o` (what was seen) becomes the last stdout line, which the Swift
    test reads. A failure goes to stderr with exit status 1."""
    os.makedirs(args.screenshots, exist_ok=True)
    o = {"screenshots": []}
    try:
        run(args, o)
    except Exception as e:
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(o))
    return 0


def main():
    ap = driver_arguments("--make-images", "--reviewer-key", "--review-stage", "--ontology")
    args = ap.parse_args()
    if args.make_images:
        make_images(args.make_images)
        return 0
    ont = json.loads(args.ontology)
    os.makedirs(args.screenshots, exist_ok=True)
    o = {"screenshots": []}
    drawn = {}
    ann = Editor(args, args.annotator_key, "annotator", o)
    rev = None
    try:
        # 1. The projects page, then the editor.
        ann.sign_in("/label/")
        stage_li = ann.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"li[data-stage='{args.annotate_stage}']"))
        o["annotateOpen"] = int(stage_li.get_attribute("data-open"))
        ann.shot("label-projects.png")
        stage_li.find_element(By.TAG_NAME, "a").click()
        ann.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        ann.shot("label-editor-empty.png")
        ann.q("#start").click()
        previous = None
        for _ in range(3):
            title = ann.wait_task(previous)
            uuid = ann.js("return app.task.uuid")
            if title == "a.png":
                annotate_a(ann, o, ont, drawn)
                ann.act_and_next("#submit", uuid)
            elif title == "b.png":
                annotate_b(ann, o, ont, drawn)
                ann.chord([Keys.CONTROL], Keys.ENTER)   # submit from the keyboard
                ann.wait_acted(uuid, "Ctrl+Enter")
            elif title == "big.jpg":
                annotate_big(ann, o, ont, drawn, args)
                ann.act_and_next("#submit", uuid)
            else:
                raise Failure(f"unexpected task {title!r}")
            previous = uuid
        WebDriverWait(ann.d, 20).until(lambda d: "No more tasks" in d.find_element(By.ID, "message").text)

        # 2. The reviewer: reject a.png with a comment, approve the others.
        rev = Editor(args, args.reviewer_key, "reviewer", o)
        rev.sign_in(f"/label/{args.project}?stage={args.review_stage}")
        rev.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        check(rev.q("#start").text == "Start reviewing", "the review stage's button")
        rev.q("#start").click()
        previous = None
        for _ in range(3):
            title = rev.wait_task(previous)
            uuid = rev.js("return app.task.uuid")
            check(rev.objects() > 0, f"the reviewer sees no labels on {title}")
            if title == "a.png":
                reject_one_label(rev, o, uuid)
            else:
                rev.act_and_next("#approve", uuid)
            previous = uuid
        WebDriverWait(rev.d, 20).until(lambda d: "No more tasks" in d.find_element(By.ID, "message").text)

        # 3. The annotator: the comment, a vertex dragged, resubmitted.
        ann.q("#start").click()
        title = ann.wait_task(None)
        check(title == "a.png", f"the rejected task did not come back: {title!r}")
        ann.wait.until(lambda d: d.find_element(By.ID, "rejection").is_displayed())
        o["rejection"] = ann.q("#rejection").text
        fix_rejected_label(ann, o)
        drawn["a.png"]["polygon"][1] = (630, 280)
        uuid = ann.js("return app.task.uuid")
        ann.act_and_next("#submit", uuid)

        # 4. The reviewer approves it.
        rev.q("#start").click()
        check(rev.wait_task(None) == "a.png", "the resubmitted task is not the reviewer's next")
        uuid = rev.js("return app.task.uuid")
        o["reviewerSees"] = rev.js("return app.model.objects.map((x) => x.shape + ':' + (review.status(x) || '-'))")
        rev.click_at(480, 400)
        rev.shot("label-review-resolved.png")
        rev.act_and_next("#approve", uuid)
        WebDriverWait(rev.d, 20).until(lambda d: "No more tasks" in d.find_element(By.ID, "message").text)
        rev.shot("label-review-done.png")
    except Exception as e:
        for ed in (ann, rev):
            if ed:
                try:
                    ed.shot(f"label-failure-{ed.name}.png")
                    print(f"[{ed.name}] message: {ed.q('#message').text!r} save: {ed.q('#save-state').text!r}", file=sys.stderr)
                except Exception:
                    pass
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        for ed in (ann, rev):
            if ed:
                ed.quit()
    o["drawn"] = drawn
    print(json.dumps(o))
    return 0


if __name__ == "__main__":
    sys.exit(main())
