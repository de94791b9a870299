#!/usr/bin/env python3
"""Drives headless Chromium through the label editor's rotatable box (docs/editor.md, "Rotatable boxes").

Run by Tests/RegistrarIntegrationTests/LabelEditorShapesBrowserTests.swift with the tools venv's
python. `--make-image PATH` writes a 640×480 PNG and exits. Otherwise the annotator takes the
task, draws a Crate (rotatable box) by dragging from (200, 150) to (400, 250), selects it,
drags its round rotate handle to 30° (the point 100 px from the centre in that direction),
presses `]` (+5°), checks the box is drawn turned; then an Arm (skeleton from the ontology's
template: shoulder, elbow, wrist) placed with three clicks in the template's order, its elbow
dragged, its wrist set invisible; saves and submits. Prints one JSON line with the box in image
pixels and theta, the keypoints, and the screenshots; `FAIL: ...` and exit 1 otherwise.
"""
import importlib.util
import json
import math
import os
import sys

_spec = importlib.util.spec_from_file_location("label_editor_browser", os.path.join(os.path.dirname(__file__), "label-editor-browser.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
Editor, Failure, check = base.Editor, base.Failure, base.check


def make_image(path):
    from PIL import Image
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.new("RGB", (640, 480), (90, 120, 160)).save(path)
    print(json.dumps({"image": path}))


def run(args, o):
    ed = Editor(args, args.annotator_key, "annotator", o)
    try:
        ed.sign_in(f"/label/{args.project}?stage={args.annotate_stage}")
        ed.wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        ed.q("#start").click()
        ed.wait_task(None)
        svg = ed.q("#canvas")
        svg.send_keys("1")                                     # Crate: rotatable box
        check(ed.js("return canvas.tool") == "rotatable_bounding_box", f"tool {ed.js('return canvas.tool')!r}")
        ed.drag((200, 150), (400, 250))
        check(ed.objects() == 1, "the rotatable box was not drawn")
        svg.send_keys("v")
        ed.click_at(300, 200)
        handle = ed.js("const h = document.querySelector('#shapes [data-handle=rotate]'); return h ? [Number(h.getAttribute('cx')), Number(h.getAttribute('cy'))] : null")
        check(handle is not None, "no rotate handle on the selected rotatable box")
        t = math.radians(30 - 90)                               # the top edge's normal at 30°
        ed.drag(tuple(handle), (300 + 100 * math.cos(t), 200 + 100 * math.sin(t)))
        after_drag = ed.js("return app.object(canvas.selected).box.theta")
        check(abs(after_drag - 30) <= 1, f"the rotate handle gave {after_drag}°")
        ed.focus("#canvas")
        ed.keys("]")
        theta = ed.js("return app.object(canvas.selected).box.theta")
        check(abs(theta - after_drag - 5) < 0.01, f"] gave {theta}° after {after_drag}°")
        transform = ed.js("return document.querySelector('#shapes rect.obj').getAttribute('transform')")
        check(transform is not None and transform.startswith(f"rotate({theta} "), f"the box is not drawn turned: {transform!r}")
        ed.shot("label-editor-rotatable.png")
        o["box"] = ed.js("const b = app.object(canvas.selected).box; return [b.x * 640, b.y * 480, (b.x + b.w) * 640, (b.y + b.h) * 480]")
        o["theta"] = theta
        # The skeleton: three clicks in the template's order, the elbow dragged, the wrist invisible.
        svg.send_keys("2")
        check(ed.js("return canvas.tool") == "skeleton", f"tool {ed.js('return canvas.tool')!r}")
        check("shoulder" in ed.q("#tool-state").text, f"no keypoint prompt: {ed.q('#tool-state').text!r}")
        for p in [(100, 300), (200, 350)]:
            ed.click_at(*p)
        check(ed.objects() == 1, "the skeleton was added before its last keypoint")
        check("wrist" in ed.q("#tool-state").text, f"the prompt did not move on: {ed.q('#tool-state').text!r}")
        ed.click_at(300, 420)
        check(ed.objects() == 2, "the skeleton was not added")
        svg.send_keys("v")
        ed.click_at(100, 300)
        check(ed.js("return app.object(canvas.selected).shape") == "skeleton", "the skeleton was not selected")
        ed.drag((200, 350), (210, 365))
        from selenium.webdriver.support.ui import Select
        Select(ed.q("#attributes select[data-keypoint='2']")).select_by_value("invisible")
        check(ed.js("return document.querySelectorAll('#shapes line.obj').length") == 2, "the template's two edges are not drawn")
        ed.shot("label-editor-skeleton.png")
        o["keypoints"] = ed.js("const o = app.object(canvas.selected); return o.points.map((p, i) => [p[0] * 640, p[1] * 480, o.skeleton[i].name, o.skeleton[i].visibility])")
        ed.wait_saved()
        ed.act_and_next("#submit", ed.js("return app.task.uuid"))
    except Exception:
        try:
            ed.shot("label-failure-shapes.png")
            print(f"message: {ed.q('#message').text!r} save: {ed.q('#save-state').text!r}", file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        ed.quit()


def main():
    args = base.driver_arguments("--make-image").parse_args()
    if args.make_image:
        make_image(args.make_image)
        return 0
    return base.run_and_report(run, args)

if __name__ == "__main__":
    sys.exit(main())
