/// The label editor's scripts, one file per part (`LabelEditor*Script.swift`).
enum LabelEditorScripts {}

/// The label pages' HTML and CSS: static shells (nothing of the tenant's data is rendered on the
/// server); the scripts fill them from the `/v1` API.
enum LabelEditorHTML {
    static func page(title: String, nonce: String, tenant: String, bodyAttributes: String = "", body: String, script: String) -> String {
        HTML.documentHead(title: title, css: css) + """

        <body\(bodyAttributes)>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top"><a class="brand" href="/label/">Registrar · Label</a>
        <span class="tenant">Tenant <strong>\(HTML.escape(tenant))</strong></span>
        <a href="/">Uploads</a>
        <form method="post" action="/logout" class="logout"><button type="submit">Sign out</button></form></header>
        \(body)
        <script nonce="\(nonce)">\(script)</script>
        </body>
        </html>
        """
    }

    static func projects(nonce: String, tenant: String) -> String {
        page(title: "Your projects", nonce: nonce, tenant: tenant, body: """
            <main id="main" class="list" tabindex="-1">
            <h1>Your projects</h1>
            <p id="projects-status" aria-live="polite">Loading…</p>
            <ul id="projects" class="projects"></ul>
            </main>
            """, script: LabelEditorScripts.common + LabelEditorScripts.projects)
    }

    static func editor(nonce: String, tenant: String, projectID: String) -> String {
        page(title: "Label editor", nonce: nonce, tenant: tenant, bodyAttributes: " class=\"editor\" data-project=\"\(HTML.escape(projectID))\"", body: """
            <main id="main" tabindex="-1">
            <div class="bar" role="toolbar" aria-label="Task">
              <h1 id="project-title">Project</h1>
              <label for="stage">Stage</label> <select id="stage"></select>
              <button type="button" id="start">Start labelling</button>
              <span id="task-info"></span>
              <button type="button" id="submit" disabled>Submit (Ctrl+Enter)</button>
              <button type="button" id="skip" disabled>Skip</button>
              <button type="button" id="approve" disabled hidden>Approve (Ctrl+Enter)</button>
              <button type="button" id="reject" disabled hidden>Reject…</button>
              <button type="button" id="release" disabled>Release</button>
              <span id="save-state" role="status" aria-live="polite" data-state="idle">No task open</span>
              <button type="button" id="save-now">Save now (Ctrl+S)</button>
            </div>
            <p id="message" role="status" aria-live="polite"></p>
            <div id="banner" class="banner" role="alert" hidden><span id="banner-text"></span>
              <button type="button" id="reload">Reload and merge</button></div>
            <p id="rejection" class="rejection" role="note" hidden></p>
            <ul id="rejected-labels" class="rejection buttons" aria-label="Rejected labels" hidden></ul>
            <div id="frames" class="frames" role="group" aria-label="Frames" hidden>
              <button type="button" id="frame-prev" aria-label="Previous frame (, or ←)">◀</button>
              <input type="range" id="frame" min="0" max="0" value="0" aria-label="Frame">
              <button type="button" id="frame-next" aria-label="Next frame (. or →)">▶</button>
              <span id="frame-label" aria-live="polite">Frame 0</span>
              <button type="button" id="frame-copy">Copy to next frame (C)</button>
            </div>
            <div class="work">
              <aside class="left" aria-label="Classes">
                <h2>Classes</h2>
                <ul id="classes" class="buttons"></ul>
                <p id="tool-state" class="muted" aria-live="polite">Select: click a label to edit it.</p>
                <div class="zoom" role="group" aria-label="View">
                  <button type="button" id="zoom-in" aria-label="Zoom in (+)">+</button>
                  <button type="button" id="zoom-out" aria-label="Zoom out (-)">−</button>
                  <button type="button" id="zoom-fit">Fit (0)</button>
                  <button type="button" id="undo">Undo</button>
                  <button type="button" id="redo">Redo</button>
                </div>
                <p id="cursor-pos" class="muted" aria-live="polite"></p>
              </aside>
              <div class="stage-area">
                <svg id="canvas" tabindex="0" role="application" aria-label="Image. Arrow keys move the crosshair, Space places a point, Enter ends a polygon or polyline."
                     aria-describedby="shortcuts-title" data-tool="select">
                  <g id="view"><image id="media" x="0" y="0" preserveAspectRatio="none"></image><foreignObject id="media-video" x="0" y="0" width="1" height="1" display="none"><video xmlns="http://www.w3.org/1999/xhtml" id="video" muted="" playsinline="" preload="auto"></video></foreignObject><g id="shapes"></g><g id="draft"></g><g id="crosshair"></g></g>
                </svg>
              </div>
              <aside class="right" aria-label="Labels">
                <h2>Labels (<span id="object-count">0</span>)</h2>
                <ul id="objects" class="buttons"></ul>
                <section id="attributes" aria-label="Attributes of the selected label"></section>
                <h2>Classifications</h2>
                <section id="classifications"></section>
                <details id="shortcuts"><summary id="shortcuts-title">Keyboard shortcuts</summary>
                <dl>
                  <dt>1–9</dt><dd>pick an object class (and its shape's tool)</dd>
                  <dt>V, Esc</dt><dd>select tool; Esc first cancels a shape being drawn</dd>
                  <dt>Arrows</dt><dd>move the crosshair 10 px (Shift: 1 px, Alt: 100 px), on the focused image</dd>
                  <dt>Space</dt><dd>place a point: a box's corner, a polygon's or polyline's vertex, a point</dd>
                  <dt>Enter</dt><dd>close the polygon / end the polyline</dd>
                  <dt>N, Shift+N</dt><dd>select the next / previous label</dd>
                  <dt>Delete</dt><dd>delete the selected label</dd>
                  <dt>Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y</dt><dd>undo, redo</dd>
                  <dt>+, −, 0</dt><dd>zoom in, out, fit (the wheel zooms at the pointer; drag empty space or Alt+drag to pan)</dd>
                  <dt>Ctrl+S</dt><dd>save now</dd>
                  <dt>Ctrl+Enter</dt><dd>submit (annotating) or approve (reviewing)</dd>
                  <dt>, and . (← → off the image)</dt><dd>video: the previous / next frame</dd>
                  <dt>[ ] (Shift: { })</dt><dd>turn the selected rotatable box 5° (1°) counter-clockwise / clockwise; or drag its round handle</dd>
                  <dt>C</dt><dd>video: copy the selected label to the next frame and show that frame</dd>
                  <dt>Tab</dt><dd>move through the buttons, labels and attribute answers</dd>
                </dl></details>
              </aside>
            </div>
            <dialog id="reject-dialog" aria-labelledby="reject-title">
              <form id="reject-form" method="dialog">
                <h2 id="reject-title">Reject this task</h2>
                <label for="reject-comment">What should the annotator fix?</label>
                <textarea id="reject-comment" rows="4" maxlength="4000" aria-describedby="reject-error"></textarea>
                <p id="reject-error" class="alert" aria-live="assertive"></p>
                <button type="submit" id="reject-confirm">Reject</button> <button type="button" id="reject-cancel">Cancel</button>
              </form>
            </dialog>
            </main>
            """, script: LabelEditorScripts.common + LabelEditorScripts.row + LabelEditorScripts.canvas + LabelEditorScripts.shapes + LabelEditorScripts.video + LabelEditorScripts.review + LabelEditorScripts.app)
    }

    static let css = """
        *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1d2330;background:#f4f5f7}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:9}
        .top{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#1d2330;color:#fff}.top a{color:#fff}
        .brand{font-weight:600;text-decoration:none}.logout{margin-left:auto}
        button{font:inherit;padding:4px 10px;border:1px solid #8a93a6;border-radius:4px;background:#fff;cursor:pointer}
        button[aria-pressed=true]{background:#dbe7ff;border-color:#2a5bd7}button:disabled{opacity:.5;cursor:default}
        :focus-visible{outline:3px solid #2a5bd7;outline-offset:2px}
        .list{max-width:900px;margin:24px auto;padding:0 16px}.projects{list-style:none;padding:0}
        .project{background:#fff;border:1px solid #d6dae2;border-radius:6px;padding:8px 16px;margin:8px 0}.project h2{font-size:18px;margin:4px 0}
        .bar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 16px;background:#fff;border-bottom:1px solid #d6dae2}
        .bar h1{font-size:16px;margin:0 8px 0 0}
        #save-state{margin-left:auto;padding:2px 8px;border-radius:10px;background:#e6e8ee}
        #save-state[data-state=saved]{background:#d9f2df}#save-state[data-state=unsaved],#save-state[data-state=saving]{background:#fff3c4}
        #save-state[data-state=offline],#save-state[data-state=stale],#save-state[data-state=error]{background:#ffd9d6}
        #message{margin:4px 16px;min-height:1.4em}#message[data-alert=true]{color:#a11}
        .banner{margin:4px 16px;padding:8px;background:#ffe9e6;border:1px solid #d33}.rejection{margin:4px 16px;padding:8px;background:#fff3c4;border:1px solid #c90}
        .work{display:grid;grid-template-columns:220px 1fr 300px;gap:8px;padding:8px;height:calc(100vh - 170px)}
        aside{background:#fff;border:1px solid #d6dae2;border-radius:6px;padding:8px;overflow:auto}aside h2{font-size:14px;margin:8px 0 4px}
        .buttons{list-style:none;padding:0;margin:0}.buttons button{width:100%;text-align:left;margin:2px 0}
        .swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
        .muted{color:#5a6275}.zoom{display:flex;flex-wrap:wrap;gap:4px;margin-top:8px}
        .stage-area{position:relative;background:#2b2f38;border-radius:6px;overflow:hidden}
        #canvas{width:100%;height:100%;display:block;cursor:crosshair;touch-action:none}#canvas[data-tool=select]{cursor:default}
        #shapes .sel{stroke-dasharray:6 3}#media-video{pointer-events:none}#shapes .rotate-arm{stroke:#fff}#video{width:100%;height:100%;object-fit:fill;display:block}
        .frames[hidden]{display:none}.frames{display:flex;gap:8px;align-items:center;padding:4px 16px}.frames input{flex:1}
        #shapes .handle{fill:#fff;stroke:#1d2330}#draft *{fill:none;stroke:#ffeb3b}#draft circle{fill:#ffeb3b}#crosshair line{stroke:#00e5ff}
        fieldset{border:1px solid #d6dae2;margin:6px 0;padding:4px 8px}.nested{margin-left:16px;border-left:2px solid #d6dae2;padding-left:8px}
        .field{display:flex;flex-direction:column;margin:6px 0}.danger{border-color:#a11;color:#a11;margin-top:8px}
        .review{margin-top:8px;border-top:1px solid #d6dae2;padding-top:4px}.review textarea{width:100%}.review-note{color:#a11}
        [data-review=REJECTED]{color:#a11}[data-review=APPROVED]{color:#1a7f37}
        dialog textarea{width:100%}.alert{color:#a11}dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;font-size:12px}dd{margin:0}
        """
}
