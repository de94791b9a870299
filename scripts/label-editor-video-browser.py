#!/usr/bin/env python3
"""Drives Debian's headless Chromium through the label editor on a 10-frame video (docs/editor.md).

Run by Tests/RegistrarIntegrationTests/LabelEditorVideoBrowserTests.swift with the tools venv's
python (selenium, Pillow). `--make-video PATH` writes the test's video and exits: 10 frames,
640×480 at 10 fps, H.264, frame k a flat grey of level 20 + 22·k, so a screenshot tells which
frame the editor shows. Otherwise, against a real `registrar api` with a project over that video:

  - the annotator takes the task: frame 0 is shown (the screenshot's grey is frame 0's);
  - a Car box drawn on frame 0, Color = Red (static), Occluded = No (dynamic, frame 0);
  - C copies it to frame 1 (shown), C again to frame 2; there the box is dragged 40, 20 px and
    Occluded is changed to Yes (frame 2 only);
  - `.` steps to frame 5 (the grey is frame 5's): a Sign point, the frame classification
    Light = Bright; the global classification Weather = Sunny;
  - `,` back to frame 1: the copied box is there with Occluded = No;
  - submit.

Prints one JSON line: what was drawn per frame, in image pixels, the greys seen, the
screenshots. Any failed check prints `FAIL: ...`, exit 1.

Orientation (`--make-rotated DIR`, then `--rotated`): `rotated.jpg` is stored 640×480 with EXIF
Orientation 6 (written by Pillow), `rotated.mp4` stored 640×480 with the track's rotate tag 90
(ffmpeg stream copy; ffprobe reports it). Each has a red 80×80 square at its *stored* top-left
on grey. The editor must show them as a browser does — 480×640, the square at the displayed
top-right (orientation 6) and bottom-left (the MP4's matrix, orientation 8) — and a box drawn
there is reported in displayed pixels.
"""
import importlib.util
import json
import os
import subprocess
import sys
import time

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# The image test's driver: the browser session, pointer and keyboard helpers.
_spec = importlib.util.spec_from_file_location("label_editor_browser", os.path.join(os.path.dirname(__file__), "label-editor-browser.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
Editor, Failure, check = base.Editor, base.Failure, base.check

W, H, FPS, FRAMES = 640, 480, 10, 10


def grey(k):
    return 20 + 22 * k


def make_video(path):
    """Ten flat grey frames through ffmpeg (libx264, yuv420p, faststart)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    raw = b"".join(bytes([grey(k)]) * (W * H * 3) for k in range(FRAMES))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-",
                    "-frames:v", str(FRAMES), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path],
                   input=raw, check=True)
    print(json.dumps({"video": path, "frames": FRAMES, "fps": FPS, "width": W, "height": H}))


def make_rotated(directory):
    """rotated.jpg (EXIF 6) and rotated.mp4 (rotate 90), both stored 640×480 with a red square at the stored top-left."""
    from PIL import Image
    os.makedirs(directory, exist_ok=True)
    im = Image.new("RGB", (W, H), (128, 128, 128))
    im.paste((230, 20, 20), (0, 0, 80, 80))
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(os.path.join(directory, "rotated.jpg"), quality=92, exif=exif.tobytes())
    plain = os.path.join(directory, "plain.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-",
                    "-frames:v", str(FRAMES), "-c:v", "libx264", "-pix_fmt", "yuv420p", plain], input=im.tobytes() * FRAMES, check=True)
    rotated = os.path.join(directory, "rotated.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", "-movflags", "+faststart", rotated], check=True)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json", rotated],
                           capture_output=True, check=True, text=True)
    stream = json.loads(probe.stdout)["streams"][0]
    rotation = stream.get("tags", {}).get("rotate") or next((str(int(sd.get("rotation"))) for sd in stream.get("side_data_list", []) if "rotation" in sd), None)
    print(json.dumps({"jpegOrientation": Image.open(os.path.join(directory, "rotated.jpg")).getexif().get(0x0112), "mp4Rotation": rotation}))


def pixel(ed, px, py):
    """The screen colour at image pixel (px, py) of the canvas, from a screenshot."""
    from io import BytesIO
    from PIL import Image
    im = Image.open(BytesIO(ed.d.get_screenshot_as_png())).convert("RGB")
    left, top, s, tx, ty, dpr = ed.js("const r = canvas.svg.getBoundingClientRect(); return [r.left, r.top, canvas.s, canvas.tx, canvas.ty, window.devicePixelRatio]")
    return im.getpixel((int((left + tx + px * s) * dpr), int((top + ty + py * s) * dpr)))


def run_rotated(args, o):
    """Both rotated units: shown 480×640 with the square where a person sees it; a box drawn in displayed pixels."""
    ed = Editor(args, args.annotator_key, "annotator", o)
    drawn = {}
    try:
        ed.sign_in(f"/label/{args.project}?stage={args.annotate_stage}")
        ed.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        ed.q("#start").click()
        previous = None
        for _ in range(2):
            title = ed.wait_task(previous).rsplit("/", 1)[-1]
            uuid = ed.js("return app.task.uuid")
            check(ed.js("return [canvas.W, canvas.H]") == [480, 640], f"{title}: the canvas is {ed.js('return [canvas.W, canvas.H]')}, not the displayed 480×640")
            if title.endswith(".mp4"):
                wait_frame(ed, 0)
                corner = (40, 600)            # orientation 8: the stored top-left is shown bottom-left
            else:
                ed.js("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
                corner = (440, 40)            # orientation 6: shown top-right
            red, grey_px = pixel(ed, *corner), pixel(ed, 40, 40) if corner != (40, 40) else None
            o.setdefault("corners", {})[title] = [list(red), list(grey_px)]
            check(red[0] > 180 and red[1] < 90, f"{title}: no red square at the displayed {corner}: {red}")
            check(abs(grey_px[0] - 128) < 30 and abs(grey_px[1] - 128) < 30, f"{title}: the displayed top-left is not grey: {grey_px}")
            ed.shot(f"label-rotated-{title.replace('.', '-')}.png")
            ed.q("#canvas").send_keys("1")
            ed.drag((100, 200), (300, 500))
            check(ed.objects() == 1, f"{title}: the box was not drawn")
            drawn[title] = ed.js("const o = app.model.objects[0]; return [o.box.x * 480, o.box.y * 640, (o.box.x + o.box.w) * 480, (o.box.y + o.box.h) * 640]")
            ed.wait_saved()
            ed.act_and_next("#submit", uuid)
            previous = uuid
    except Exception:
        try:
            ed.shot("label-failure-rotated.png")
            print(f"message: {ed.q('#message').text!r} save: {ed.q('#save-state').text!r}", file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        ed.quit()
    o["drawn"] = drawn


def shown_grey(ed, f):
    """The grey of the canvas at the image pixel (600, 440), from a screenshot (no label covers
    it). Headless Chromium may present a seeked frame a few paints late under load: screenshots
    are taken for up to 3 s until frame f's grey shows; the last one seen is answered either way
    (the test judges it)."""
    from io import BytesIO
    from PIL import Image
    deadline = time.time() + 3
    while True:
        png = ed.d.get_screenshot_as_png()
        im = Image.open(BytesIO(png)).convert("RGB")
        r = ed.js("const r = canvas.svg.getBoundingClientRect(); return [r.left, r.top, canvas.s, canvas.tx, canvas.ty, window.devicePixelRatio]")
        left, top, s, tx, ty, dpr = r
        x, y = (left + tx + 600 * s) * dpr, (top + ty + 440 * s) * dpr
        g = im.getpixel((int(x), int(y)))[0]
        if abs(g - grey(f)) <= 8 or time.time() > deadline:
            return g
        time.sleep(0.1)


def wait_frame(ed, f):
    try:
        WebDriverWait(ed.d, 15).until(lambda d: d.execute_script("return document.body.dataset.frame") == str(f)
                                      and d.execute_script("return document.body.dataset.frameReady") == "true")
    except TimeoutException:
        raise Failure(f"frame {f} was not shown: frame {ed.js('return document.body.dataset.frame')!r}, {ed.q('#message').text!r}")
    # The decoded frame reaches the screen a paint after `seeked`.
    ed.js("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")


def answer(ed, option_hash):
    inp = ed.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"input[data-option='{option_hash}']"))
    ed.d.find_element(By.CSS_SELECTOR, f"label[for='{inp.get_attribute('id')}']").click()


def selected_option(ed, option_hash):
    return ed.q(f"input[data-option='{option_hash}']").is_selected()


def box_px(ed):
    return ed.js("const o = app.object(canvas.selected); return [o.box.x * 640, o.box.y * 480, (o.box.x + o.box.w) * 640, (o.box.y + o.box.h) * 480]")


def run(args, o):
    ont = json.loads(args.ontology)
    ed = Editor(args, args.annotator_key, "annotator", o)
    drawn = {}
    greys = {}
    try:
        ed.sign_in(f"/label/{args.project}?stage={args.annotate_stage}")
        ed.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        ed.q("#start").click()
        check(ed.wait_task(None).endswith("ten-frames.mp4"), f"opened {ed.task_title()!r}")
        check(ed.q("#frames").is_displayed(), "no frame scrubber on a video")
        o["frameCount"] = ed.js("return frames.count")
        check(o["frameCount"] == FRAMES, f"frame count {o['frameCount']}, expected {FRAMES}")
        wait_frame(ed, 0)
        greys[0] = shown_grey(ed, 0)
        svg = ed.q("#canvas")
        # Frame 0: a box, Color = Red (static), Occluded = No (dynamic).
        svg.send_keys("1")
        ed.drag((100, 80), (300, 220))
        check(ed.objects() == 1, "the box was not drawn")
        svg.send_keys("v")
        ed.click_at(200, 150)
        answer(ed, ont["red"])
        answer(ed, ont["no"])
        drawn["0"] = {"box": box_px(ed)}
        ed.shot("label-video-frame0.png")
        # C: copied to frame 1 (shown), C: to frame 2.
        ed.focus("#canvas")
        ed.keys("c")
        wait_frame(ed, 1)
        greys[1] = shown_grey(ed, 1)
        check(ed.js("return app.model.objects.filter(frames.shows).length") == 1, "frame 1 has no copy")
        drawn["1"] = {"box": box_px(ed)}
        ed.focus("#canvas")
        ed.keys("c")
        wait_frame(ed, 2)
        ed.drag((200, 150), (240, 170))          # the copy moved on frame 2 only
        drawn["2"] = {"box": box_px(ed)}
        check(abs(drawn["2"]["box"][0] - drawn["1"]["box"][0] - 40) <= 1, f"the box did not move on frame 2: {drawn['2']} vs {drawn['1']}")
        answer(ed, ont["yes"])
        check(selected_option(ed, ont["red"]), "the static Color answer did not follow the copy")
        ed.shot("label-video-frame2.png")
        # '.' three times: frame 5; a point, the frame classification; the global one.
        ed.focus("#canvas")
        ed.keys(".", ".", ".")
        wait_frame(ed, 5)
        greys[5] = shown_grey(ed, 5)
        check(ed.js("return app.model.objects.filter(frames.shows).length") == 0, "frame 5 shows another frame's labels")
        svg.send_keys("2")
        ed.click_at(500, 100)
        drawn["5"] = {"point": ed.js("const o = app.object(canvas.selected); return [o.points[0][0] * 640, o.points[0][1] * 480]")}
        answer(ed, ont["bright"])
        answer(ed, ont["sunny"])
        ed.shot("label-video-frame5.png")
        # ',' back to frame 1 (, four times): the copy with its frame's dynamic answer.
        ed.focus("#canvas")
        ed.keys(",", ",", ",", ",")
        wait_frame(ed, 1)
        check(ed.js("return app.model.objects.filter(frames.shows).length") == 1, "frame 1 lost its box")
        svg.send_keys("v")
        ed.click_at(200, 150)
        check(selected_option(ed, ont["no"]) and not selected_option(ed, ont["yes"]), "frame 1's Occluded answer is not No")
        check(not ed.q(f"#classifications input[data-option='{ont['bright']}']").is_selected(), "frame 5's Light answer shows on frame 1")
        check(ed.q(f"#classifications input[data-option='{ont['sunny']}']").is_selected(), "the global Weather answer is not shown on frame 1")
        ed.wait_saved()
        uuid = ed.js("return app.task.uuid")
        ed.act_and_next("#submit", uuid)
    except Exception:
        try:
            ed.shot("label-failure-video.png")
            print(f"message: {ed.q('#message').text!r} save: {ed.q('#save-state').text!r}", file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        ed.quit()
    o["drawn"] = drawn
    o["greys"] = greys


def main():
    ap = base.driver_arguments("--make-video", "--make-rotated", "--ontology")
    ap.add_argument("--rotated", action="store_true")
    args = ap.parse_args()
    if args.make_video:
        make_video(args.make_video)
        return 0
    if args.make_rotated:
        make_rotated(args.make_rotated)
        return 0
    return base.run_and_report(run_rotated if args.rotated else run, args)

if __name__ == "__main__":
    sys.exit(main())
