import Foundation
import RegistrarCore
import RegistrarRuntime

/// The status page's HTML: server-rendered, no build step, one inline stylesheet and one small
/// inline script (allowed by a per-response CSP nonce). Everything that comes from users or
/// objects (file names, URLs, messages, codes) goes through `HTML.escape`.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// The start of every page Registrar serves (status page, label editor), up to `<body`:
    /// doctype, charset, viewport, the escaped title and the page's inline stylesheet.
    static func documentHead(title: String, css: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Registrar</title>
        <style>\(css)</style>
        </head>
        """
    }

    /// Percent-encodes a query parameter value.
    static func query(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// 1234567 → "1,234,567" (the script formats the same way: `toLocaleString('en-US')`).
    static func group(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// Percent of `part` in `whole`, rounded *down* to one decimal: never shows 100% early.
    static func percent(_ part: Int, of whole: Int) -> Double {
        guard whole > 0 else { return 0 }
        return (Double(part) * 1000 / Double(whole)).rounded(.down) / 10
    }

    static func percentText(_ p: Double) -> String { String(format: "%.1f%%", p) }

    static func rate(_ r: Double) -> String {
        r >= 10 ? "\(group(Int(r.rounded()))) units/s" : String(format: "%.1f units/s", r)
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    /// "2024-05-01T12:00:03.123Z" → "2024-05-01 12:00:03 UTC".
    static func time(_ iso: String?) -> String {
        guard let iso, iso.count >= 19 else { return "—" }
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(8) + " UTC"
    }

    static func timeElement(_ iso: String?, field: String) -> String {
        guard let iso else { return "<span data-f=\"\(field)\">—</span>" }
        return "<time data-f=\"\(field)\" datetime=\"\(escape(iso))\">\(escape(time(iso)))</time>"
    }

    static func statusLabel(_ s: JobStatus) -> String {
        switch s {
        case .pending: return "Running"
        case .done: return "Done"
        case .error: return "Error"
        case .cancelled: return "Cancelled"
        }
    }
}

/// What the page shows of one upload (from the same snapshot the JSON API serves).
struct UploadView {
    var id: String
    var status: JobStatus
    var phase: JobPhase
    var total: Int?
    var counts: UnitCounts
    var pending: Int
    var rate: Double
    var eta: Int?
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var fileName: String
    var folderID: String
    var retryOf: String?
    var error: String?

    init(_ s: UploadSnapshot) {
        id = s.state.id
        status = s.state.status
        phase = s.state.phase
        total = s.state.total
        counts = s.state.counts
        pending = s.state.pending
        rate = s.rate
        eta = s.etaSeconds
        createdAt = s.createdAt
        startedAt = s.state.startedAt
        finishedAt = s.state.finishedAt
        fileName = s.extras.fileName ?? "upload"
        folderID = s.extras.folderID
        retryOf = s.extras.retryOf
        error = s.state.error
    }

    var finished: Int { counts.finished }

    var rateText: String {
        status == .pending ? HTML.rate(rate) : HTML.rate(rate) + " (average)"
    }

    var etaText: String {
        if status != .pending { return "—" }
        if let eta { return HTML.duration(eta) }
        return total == nil ? "unknown (total not known yet)" : "unknown (no rate yet)"
    }

    /// What assistive technology reads for the bar.
    var progressText: String {
        let breakdown = "\(HTML.group(counts.done)) done, \(HTML.group(counts.errors)) errors, "
            + "\(HTML.group(counts.skipped)) skipped, \(HTML.group(counts.cancelled)) cancelled"
        guard let total else { return "\(HTML.group(finished)) units processed; total not known yet. \(breakdown)" }
        return "\(HTML.group(finished)) of \(HTML.group(total)) units processed (\(HTML.percentText(HTML.percent(finished, of: total)))). \(breakdown)"
    }
}

enum StatusPageHTML {
    // MARK: Layout

    static func layout(title: String, nonce: String, tenant: String?, live: Bool, body: String) -> String {
        var header = "<header class=\"top\"><div class=\"wrap\"><a class=\"brand\" href=\"/\">Registrar</a>"
        if let tenant {
            header += "<span class=\"tenant\">Tenant <strong>\(HTML.escape(tenant))</strong></span>"
            header += "<form method=\"post\" action=\"/logout\" class=\"logout\"><button type=\"submit\">Sign out</button></form>"
        }
        header += "</div></header>"
        let script = live ? "<script nonce=\"\(nonce)\">\(actionsScript)\n\(liveScript)</script>" : ""
        return HTML.documentHead(title: title, css: css) + """

            <body>
            <a class="skip" href="#main">Skip to content</a>
            \(header)
            <main id="main" class="wrap" tabindex="-1">
            \(body)
            </main>
            \(script)
            </body>
            </html>
            """
    }

    // MARK: Login

    static func login(nonce: String, message: String?, next: String) -> String {
        var body = "<section class=\"login\" aria-labelledby=\"login-title\"><h1 id=\"login-title\">Sign in</h1>"
        body += "<p>Registrar's status page shows your tenant's uploads as they run. Sign in with an API key.</p>"
        if let message {
            body += "<p id=\"key-error\" class=\"alert\" role=\"alert\">\(HTML.escape(message))</p>"
        }
        let describedBy = message == nil ? "key-help" : "key-help key-error"
        body += """
            <form method="post" action="/login">
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <label for="key">API key</label>
            <input id="key" name="key" type="password" required autocomplete="current-password" spellcheck="false"
                   autocapitalize="off" aria-describedby="\(describedBy)"\(message == nil ? "" : " aria-invalid=\"true\"") autofocus>
            <p id="key-help" class="help">The key <code>registrar keys create --tenant NAME</code> printed (it starts with
            <code>rgk_</code>). It is kept in an HTTP-only cookie for this site and never shown again.</p>
            <button type="submit">Sign in</button>
            </form>
            </section>
            """
        return layout(title: "Sign in", nonce: nonce, tenant: nil, live: false, body: body)
    }

    // MARK: Progress (shared by the list and the upload page)

    static func progress(_ u: UploadView, label: String) -> String {
        let total = u.total ?? 0
        func width(_ n: Int) -> String { u.total == nil ? "0" : String(format: "%.3f", total > 0 ? Double(n) * 100 / Double(total) : 0) }
        var aria = "role=\"progressbar\" aria-label=\"\(HTML.escape(label))\" aria-valuemin=\"0\""
        if let t = u.total {
            aria += " aria-valuemax=\"\(t)\" aria-valuenow=\"\(min(u.finished, t))\""
        }
        aria += " aria-valuetext=\"\(HTML.escape(u.progressText))\""
        let percent = u.total.map { HTML.percentText(HTML.percent(u.finished, of: $0)) } ?? "total not known yet"
        return """
            <div class="progress">
            <div class="bar\(u.total == nil ? " unknown" : "")" data-f="bar" \(aria)>\
            <span class="seg done" data-seg="done" style="width:\(width(u.counts.done))%"></span>\
            <span class="seg errors" data-seg="errors" style="width:\(width(u.counts.errors))%"></span>\
            <span class="seg skipped" data-seg="skipped" style="width:\(width(u.counts.skipped))%"></span>\
            <span class="seg cancelled" data-seg="cancelled" style="width:\(width(u.counts.cancelled))%"></span>\
            </div>
            <p class="counts"><strong><span data-f="finished">\(HTML.group(u.finished))</span> of \
            <span data-f="total">\(u.total.map(HTML.group) ?? "?")</span></strong> units \
            (<span data-f="percent">\(percent)</span>)</p>
            <ul class="breakdown">\
            <li><span class="swatch done" aria-hidden="true"></span>done <b data-f="done">\(HTML.group(u.counts.done))</b></li>\
            <li><span class="swatch errors" aria-hidden="true"></span>errors <b data-f="errors">\(HTML.group(u.counts.errors))</b></li>\
            <li><span class="swatch skipped" aria-hidden="true"></span>skipped <b data-f="skipped">\(HTML.group(u.counts.skipped))</b></li>\
            <li><span class="swatch cancelled" aria-hidden="true"></span>cancelled <b data-f="cancelled">\(HTML.group(u.counts.cancelled))</b></li>\
            </ul>
            </div>
            """
    }

    static func statusBadge(_ u: UploadView) -> String {
        "<span class=\"badge s-\(u.status.rawValue.lowercased())\" data-status-of=\"\(HTML.escape(u.id))\">\(HTML.statusLabel(u.status))</span>"
    }

    // MARK: Uploads list

    struct FolderOption { var id: String; var name: String }

    /// "New upload": the script sends the chosen manifest to `POST /v1/folders/{id}/uploads`, or
    /// the chosen files as multipart/form-data to `POST /v1/folders/{id}/files` (creating the
    /// folder first when a new name is typed), and opens the new upload's page.
    static func newUploadForm(folders: [FolderOption]) -> String {
        var options = ""
        for f in folders { options += "<option value=\"\(HTML.escape(f.id))\">\(HTML.escape(f.name))</option>" }
        options += "<option value=\"\"\(folders.isEmpty ? " selected" : "")>New folder…</option>"
        return """
            <section class="card" aria-labelledby="new-title">
            <h2 id="new-title">New upload</h2>
            <form id="new-upload" class="new-upload">
            <div class="field"><label for="folder">Folder</label>
            <select id="folder" name="folder">\(options)</select></div>
            <div class="field" id="folder-name-field"><label for="folder-name">New folder name</label>
            <input id="folder-name" name="folderName" type="text" maxlength="255" autocomplete="off" spellcheck="false"></div>
            <fieldset class="field" id="source"><legend>What to send</legend>
            <label><input type="radio" name="source" id="source-manifest" value="manifest" checked> A manifest of cloud files</label>
            <label><input type="radio" name="source" id="source-files" value="files"> Files from this computer</label></fieldset>
            <div class="field" id="manifest-field"><label for="manifest">Manifest file</label>
            <input id="manifest" name="manifest" type="file" accept=".json,.csv,application/json,text/csv" required aria-describedby="manifest-help">
            <p id="manifest-help" class="help">JSON or CSV; the type comes from the file's extension (<code>.json</code>, <code>.csv</code>).</p></div>
            <div class="field" id="files-field" hidden><label for="files">Files</label>
            <input id="files" name="files" type="file" multiple aria-describedby="files-help">
            <p id="files-help" class="help">Images, videos, audio, PDF, text, NIfTI or DICOM (<code>.dcm</code>), up to 1,000; stored in Registrar's storage, then registered. Large batches: <code>registrar upload</code> (resumable).</p></div>
            <div class="field" id="as-field" hidden><label for="as">Register as</label>
            <select id="as" name="as"><option value="">One item per file</option><option value="image-group">One image group</option>
            <option value="image-sequence">One image sequence</option><option value="dicom-series">One DICOM series</option></select></div>
            <div class="field" id="title-field" hidden><label for="title">Title</label>
            <input id="title" name="title" type="text" maxlength="300" autocomplete="off"></div>
            <div class="field check"><input id="ignore-errors" name="ignoreErrors" type="checkbox" aria-describedby="ignore-help">
            <label for="ignore-errors">Ignore errors</label>
            <p id="ignore-help" class="help">The upload ends Done even when some units fail (otherwise Error). Units that verify are registered either way.</p></div>
            <div class="field submit"><button type="submit" id="start-upload">Start upload</button></div>
            </form>
            <p id="new-upload-status" class="help" role="status" aria-live="polite"></p>
            <div id="new-upload-error" class="alert" role="alert"></div>
            </section>
            """
    }

    /// The datasets and projects the first page lists: the API's JSON objects as stored.
    struct Catalog {
        var datasets: [String]
        var projects: [String]
        /// Project id → tasks per stage and status (`StatusPageStages`).
        var stages: [String: [StatusPageStages.Stage]] = [:]
    }

    /// Datasets (files, by type) and projects (datasets, collaborators), newest first.
    static func catalog(_ catalog: Catalog) -> String {
        func rows(_ items: [String], _ cells: (JSONValue) -> [String]) -> String {
            items.compactMap { JSONValue.parse(Array($0.utf8)) }.map { item in
                let title = HTML.escape(item["title"]?.stringValue ?? "")
                let id = HTML.escape(item["id"]?.stringValue ?? "")
                return "<tr><th scope=\"row\">\(title)<br><code class=\"id\">\(id)</code></th>"
                    + cells(item).map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>"
            }.joined()
        }
        func count(_ v: JSONValue?) -> String {
            if case .number(let n)? = v { return n }
            if case .array(let a)? = v { return String(a.count) }
            return "0"
        }
        func byType(_ v: JSONValue?) -> String {
            guard case .object(let members)? = v, !members.isEmpty else { return "—" }
            return members.map { "\($0.key) \(count($0.value))" }.joined(separator: ", ")
        }
        var body = "<section aria-labelledby=\"catalog-h\"><h2 id=\"catalog-h\">Datasets and projects</h2>"
        if catalog.datasets.isEmpty {
            body += "<p class=\"empty\">No datasets yet: <code>registrar datasets create --title T</code>, then "
                + "<code>registrar datasets attach ID --folder F --wait</code>.</p>"
        } else {
            body += "<div class=\"table-scroll\"><table class=\"datasets\"><caption>Datasets (the first 20; <code>registrar datasets list</code> shows all).</caption>"
                + "<thead><tr><th scope=\"col\">Dataset</th><th scope=\"col\">Files</th><th scope=\"col\">By type</th></tr></thead><tbody>"
                + rows(catalog.datasets) { [count($0["fileCount"]), byType($0["byType"])] } + "</tbody></table></div>"
        }
        if catalog.projects.isEmpty {
            body += "<p class=\"empty\">No projects you can see: <code>registrar projects create --title T --dataset ID --ontology ID</code>.</p>"
        } else {
            body += "<div class=\"table-scroll\"><table class=\"projects\"><caption>Projects you can see (the first 20, by title).</caption>"
                + "<thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Datasets</th><th scope=\"col\">Collaborators</th>"
                + "<th scope=\"col\">Groups</th><th scope=\"col\">Tasks by stage</th></tr></thead><tbody>"
                + rows(catalog.projects) {
                    [count($0["datasetIds"]), count($0["memberCount"]), count($0["groupCount"]),
                     StatusPageStages.text(catalog.stages[$0["id"]?.stringValue ?? ""])]
                } + "</tbody></table></div>"
        }
        return body + "</section>"
    }

    static func uploads(nonce: String, tenant: String, items: [UploadView], next: String?, isFirstPage: Bool,
                        folders: [FolderOption] = [], catalog: Catalog? = nil) -> String {
        var body = "<h1>Uploads</h1>"
        if isFirstPage { body += newUploadForm(folders: folders) }
        body += liveNotice
        if items.isEmpty {
            body += isFirstPage
                ? "<p class=\"empty\">No uploads yet. Start one with the form above, <code>registrar submit</code> or "
                    + "<code>POST /v1/folders/{id}/uploads</code>; it shows up here.</p>"
                : "<p class=\"empty\">No older uploads.</p>"
        } else {
            body += """
                <div class="table-scroll"><table class="uploads">
                <caption>Your tenant's uploads, newest first. Running uploads update live.</caption>
                <thead><tr><th scope="col">Upload</th><th scope="col">Status</th><th scope="col">Phase</th>\
                <th scope="col" class="w-progress">Progress</th><th scope="col">Rate</th><th scope="col">ETA</th>\
                <th scope="col">Created</th></tr></thead>
                <tbody>
                """
            for u in items {
                let name = HTML.escape(u.fileName)
                body += """
                    <tr data-upload="\(HTML.escape(u.id))" data-status="\(u.status.rawValue)">
                    <th scope="row"><a href="/uploads/\(HTML.escape(u.id))">\(name)</a><br><code class="id">\(HTML.escape(u.id))</code></th>
                    <td>\(statusBadge(u))</td>
                    <td data-f="phase">\(u.phase.rawValue)</td>
                    <td>\(progress(u, label: "Progress of \(u.fileName)"))</td>
                    <td class="nowrap" data-f="rate">\(u.rateText)</td>
                    <td class="nowrap" data-f="eta">\(u.etaText)</td>
                    <td>\(HTML.timeElement(u.createdAt, field: "createdAt"))</td>
                    </tr>
                    """
            }
            body += "</tbody></table></div>"
        }
        if let next {
            body += "<nav class=\"pager\" aria-label=\"Pages\"><a href=\"/?cursor=\(HTML.query(next))\">Older uploads →</a></nav>"
        }
        if !isFirstPage {
            body += "<nav class=\"pager\" aria-label=\"Back\"><a href=\"/\">← Newest uploads</a></nav>"
        }
        if let catalog { body += self.catalog(catalog) }
        return layout(title: "Uploads", nonce: nonce, tenant: tenant, live: true, body: body)
    }

    static let liveNotice = """
        <p class="live" id="live" role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span>\
        <span id="live-text">Live updates start when the page has loaded.</span></p>
        """

    // MARK: One upload

    struct ErrorsView {
        var codes: [(code: String, count: Int)]
        var selected: String?
        var rows: [UnitErrorRow]
        var after: Int
        var next: String?
    }

    static func upload(nonce: String, tenant: String, u: UploadView, errors e: ErrorsView) -> String {
        let id = HTML.escape(u.id)
        var body = "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/\">Uploads</a> / <span aria-current=\"page\">\(HTML.escape(u.fileName))</span></nav>"
        body += "<h1>\(HTML.escape(u.fileName)) \(statusBadge(u))</h1>"
        body += liveNotice
        body += "<section class=\"card\" data-upload=\"\(id)\" data-status=\"\(u.status.rawValue)\" data-errors-at-load=\"\(u.counts.errors)\" aria-labelledby=\"progress-title\">"
        body += "<h2 id=\"progress-title\">Progress</h2>"
        body += progress(u, label: "Progress of \(u.fileName)")
        body += "<dl class=\"facts\">"
        func fact(_ term: String, _ value: String) { body += "<div><dt>\(term)</dt><dd>\(value)</dd></div>" }
        fact("Upload id", "<code>\(id)</code>")
        fact("Phase", "<span data-f=\"phase\">\(u.phase.rawValue)</span>")
        fact("Pending units", "<span data-f=\"pending\">\(HTML.group(u.pending))</span>")
        fact("Rate", "<span data-f=\"rate\">\(u.rateText)</span>")
        fact("ETA", "<span data-f=\"eta\">\(u.etaText)</span>")
        fact("Created", HTML.timeElement(u.createdAt, field: "createdAt"))
        fact("Started", HTML.timeElement(u.startedAt, field: "startedAt"))
        fact("Finished", HTML.timeElement(u.finishedAt, field: "finishedAt"))
        fact("Folder", "<code>\(HTML.escape(u.folderID))</code>")
        if let r = u.retryOf { fact("Retry of", "<a href=\"/uploads/\(HTML.escape(r))\"><code>\(HTML.escape(r))</code></a>") }
        body += "</dl>"
        if let err = u.error { body += "<p class=\"alert\">\(HTML.escape(err))</p>" }
        // Cancel while running, retry when it finished with errors; the script shows the right one
        // as the status changes live.
        let running = u.status == .pending
        body += """
            <div class="actions" data-actions-for="\(id)">
            <button type="button" class="danger" data-action="cancel"\(running ? "" : " hidden")>Cancel upload</button>
            <button type="button" data-action="retry"\(!running && u.counts.errors > 0 ? "" : " hidden")>Retry failed units</button>
            <p class="help" id="action-status" role="status" aria-live="polite"></p>
            </div>
            <div id="action-error" class="alert" role="alert"></div>
            """
        body += "</section>"

        // Errors.
        let totalErrors = e.codes.reduce(0) { $0 + $1.count }
        body += "<section class=\"card\" aria-labelledby=\"errors-title\"><h2 id=\"errors-title\">Errors</h2>"
        body += "<p class=\"hint\" id=\"new-errors\" role=\"status\" hidden></p>"
        var codeParam = ""
        if let c = e.selected { codeParam = "&code=" + HTML.query(c) }
        body += """
            <form method="get" action="/uploads/\(id)" class="filter">
            <label for="code">Error code</label>
            <select id="code" name="code">
            <option value=""\(e.selected == nil ? " selected" : "")>All codes (\(HTML.group(totalErrors)))</option>
            """
        var listed = Set<String>()
        for (code, n) in e.codes {
            listed.insert(code)
            let c = HTML.escape(code)
            body += "<option value=\"\(c)\"\(e.selected == code ? " selected" : "")>\(c) (\(HTML.group(n)))</option>"
        }
        if let s = e.selected, !listed.contains(s) {
            body += "<option value=\"\(HTML.escape(s))\" selected>\(HTML.escape(s)) (0)</option>"
        }
        body += """
            </select>
            <button type="submit">Filter</button>
            </form>
            <p class="downloads">Download \(e.selected == nil ? "all errors" : "errors with code <code>\(HTML.escape(e.selected!))</code>"): \
            <a href="/v1/uploads/\(id)/errors?format=csv\(HTML.escape(codeParam))" download>CSV</a> · \
            <a href="/v1/uploads/\(id)/errors?format=jsonl\(HTML.escape(codeParam))" download>JSON Lines</a></p>
            """
        if e.rows.isEmpty {
            body += "<p class=\"empty\" id=\"no-errors\">"
                + (e.selected.map { "No errors with code <code>\(HTML.escape($0))</code>" + (e.after >= 0 ? " on this page." : ".") }
                   ?? (e.after >= 0 ? "No more errors." : "No errors so far."))
                + "</p>"
        } else {
            let what = e.selected.map { " with code \(HTML.escape($0))" } ?? ""
            body += """
                <div class="table-scroll"><table class="errors">
                <caption>Errors\(what)\(e.after >= 0 ? " after unit \(e.after)" : ""), in unit order (\(HTML.group(e.rows.count)) shown)</caption>
                <thead><tr><th scope="col">Unit</th><th scope="col">Code</th><th scope="col">Message</th>\
                <th scope="col">Action</th><th scope="col">Object URLs</th></tr></thead><tbody>
                """
            for r in e.rows {
                let urls = r.urls.map { "<span class=\"url\">\(HTML.escape($0))</span>" }.joined(separator: "<br>")
                body += "<tr><td class=\"num\">\(HTML.escape(r.unit))</td><td><code data-code>\(HTML.escape(r.code))</code></td>"
                    + "<td>\(HTML.escape(r.message))</td><td>\(HTML.escape(r.action))</td><td>\(urls)</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        var pager: [String] = []
        if e.after >= 0 { pager.append("<a href=\"/uploads/\(id)\(e.selected.map { "?code=" + HTML.escape(HTML.query($0)) } ?? "")\">← First errors</a>") }
        if let next = e.next {
            pager.append("<a href=\"/uploads/\(id)?cursor=\(HTML.query(next))\(HTML.escape(codeParam))\">Next errors →</a>")
        }
        if !pager.isEmpty { body += "<nav class=\"pager\" aria-label=\"Error pages\">" + pager.joined(separator: " ") + "</nav>" }
        body += "</section>"
        return layout(title: u.fileName, nonce: nonce, tenant: tenant, live: true, body: body)
    }

    // MARK: Problems

    static func problem(nonce: String, tenant: String?, title: String, message: String) -> String {
        layout(title: title, nonce: nonce, tenant: tenant, live: false,
               body: "<h1>\(HTML.escape(title))</h1><p>\(HTML.escape(message))</p><p><a href=\"/\">Back to uploads</a></p>")
    }

    // MARK: Style

    static let css = """
        :root{--fg:#1f2328;--muted:#57606a;--bg:#fff;--card:#f6f8fa;--line:#d0d7de;--link:#0550ae;--focus:#0969da;\
        --done:#1a7f37;--errors:#cf222e;--skipped:#6e7781;--cancelled:#9a6700;--track:#eaeef2}
        *{box-sizing:border-box}
        body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        .wrap{max-width:1200px;margin:0 auto;padding:0 1rem}
        a{color:var(--link)}
        :focus-visible{outline:3px solid var(--focus);outline-offset:2px}
        .skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.5rem;z-index:9}
        .top{background:#24292f;color:#fff}
        .top .wrap{display:flex;gap:1rem;align-items:center;min-height:3.25rem}
        .brand{color:#fff;font-weight:700;text-decoration:none;font-size:1.15rem}
        .tenant{margin-left:auto;color:#f0f3f6}
        .logout button{background:transparent;color:#fff;border:1px solid #8c959f}
        button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #1f6feb;background:#0969da;color:#fff;cursor:pointer}
        button:hover{background:#0550ae}
        h1{font-size:1.6rem;margin:1.25rem 0 .5rem}
        h2{font-size:1.2rem;margin:.25rem 0 .75rem}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.88em}
        .id{color:var(--muted);font-size:.75rem}
        .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:1rem 0}
        .table-scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%;background:#fff}
        caption{text-align:left;color:var(--muted);padding:.25rem 0 .5rem}
        th,td{text-align:left;vertical-align:top;padding:.55rem .6rem;border-bottom:1px solid var(--line)}
        thead th{background:var(--card);font-size:.9rem}
        tbody th{font-weight:600}
        td.num{font-variant-numeric:tabular-nums;text-align:right}
        .w-progress{min-width:18rem}
        .badge{display:inline-block;font-size:.8rem;font-weight:600;padding:.1rem .5rem;border-radius:1rem;border:1px solid;vertical-align:middle}
        .s-pending{color:#0550ae;background:#ddf4ff}.s-done{color:#116329;background:#dafbe1}
        .s-error{color:#a40e26;background:#ffebe9}.s-cancelled{color:#7d4e00;background:#fff8c5}
        .progress{min-width:16rem}
        .bar{display:flex;height:.9rem;border-radius:.45rem;background:var(--track);overflow:hidden;border:1px solid #8c959f}
        .bar.unknown{background:repeating-linear-gradient(45deg,var(--track) 0 8px,#d0d7de 8px 16px)}
        .seg{display:block;height:100%;transition:width .4s ease}
        .seg.done,.swatch.done{background:var(--done)}.seg.errors,.swatch.errors{background:var(--errors)}\
        .seg.skipped,.swatch.skipped{background:var(--skipped)}.seg.cancelled,.swatch.cancelled{background:var(--cancelled)}
        .nowrap{white-space:nowrap}
        .counts{margin:.3rem 0 .1rem;font-variant-numeric:tabular-nums}
        .breakdown{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem .9rem;margin:0;padding:0;font-size:.875rem;color:var(--muted)}
        .breakdown b{color:var(--fg);font-variant-numeric:tabular-nums}
        .swatch{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.3rem;vertical-align:-.05rem}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.5rem 1rem;margin:1rem 0 0}
        .facts dt{font-size:.8rem;color:var(--muted)}.facts dd{margin:0;font-variant-numeric:tabular-nums}
        .live{color:var(--muted);font-size:.9rem;margin:.25rem 0 .75rem}
        .live .dot{display:inline-block;width:.6rem;height:.6rem;border-radius:50%;background:#8c959f;margin-right:.4rem}
        .live.on .dot{background:var(--done)}.live.off .dot{background:var(--errors)}
        .filter{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
        select,input{font:inherit;padding:.35rem .5rem;border:1px solid #6e7781;border-radius:6px;background:#fff;color:var(--fg)}
        .downloads{margin:.5rem 0 1rem}
        .url{word-break:break-all;font-family:ui-monospace,monospace;font-size:.82rem}
        .errors td{font-size:.9rem}
        .pager{margin:1rem 0;display:flex;gap:1.5rem}
        .alert{color:#a40e26;background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.5rem .75rem}
        .hint{background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;padding:.4rem .75rem}
        .empty{color:var(--muted)}
        .alert:empty{display:none}
        .new-upload{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.75rem 1.25rem;align-items:start}
        .new-upload fieldset{border:0;margin:0;padding:0;display:flex;flex-direction:column;gap:.25rem}.new-upload legend{font-weight:600;padding:0}
        .field{display:flex;flex-direction:column;gap:.25rem;min-width:0}
        .field>label{font-weight:600;font-size:.9rem}
        .field .help{margin:0}
        .field.check{display:grid;grid-template-columns:auto 1fr;gap:.25rem .5rem;align-items:center;padding-top:1.6rem}
        .field.check .help{grid-column:1/-1}
        .field.check input{width:1.1rem;height:1.1rem;margin:0}
        .field.submit{padding-top:1.6rem}
        .field input[type=file]{padding:.3rem;background:#fff}
        [hidden]{display:none!important}
        button:disabled{opacity:.6;cursor:progress}
        button.danger{background:#fff;color:#a40e26;border-color:#cf222e}
        button.danger:hover{background:#ffebe9}
        .actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-top:1rem}
        .actions .help{margin:0}
        .login{max-width:28rem;margin:3rem auto}
        .login form{display:flex;flex-direction:column;gap:.5rem}
        .login input{width:100%}
        .help{font-size:.85rem;color:var(--muted);margin:0 0 .5rem}
        .crumbs{margin-top:1rem;font-size:.9rem}
        @media (prefers-reduced-motion:reduce){.seg{transition:none}}
        """

    // MARK: Script

    /// The "New upload" form and the cancel/retry buttons: `fetch` to the JSON API with the
    /// HttpOnly cookie (same origin); API errors are shown with the API's own message.
    static let actionsScript = #"""
        (function(){
        "use strict";
        function send(method, url, body, type){
          var init = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
          // FormData: no type, the browser writes multipart/form-data with its boundary.
          if(body != null){ init.body = body; if(type) init.headers["Content-Type"] = type; }
          return fetch(url, init).then(function(r){
            return r.text().then(function(t){ var j = null; try { j = JSON.parse(t); } catch(e) {}
              return {status: r.status, ok: r.ok, json: j}; });
          }, function(){ return {status: 0, ok: false, json: null}; });
        }
        function problem(r, what){
          var e = r.json && r.json.error, msg = e && e.message ? e.message : "";
          var d = (e && e.details) || {};
          if(d.line != null && msg.indexOf("line ") < 0) msg += " (line " + d.line + ")";
          switch(r.status){
            case 0: return what + " failed: the server could not be reached.";
            case 401: return "Your sign-in is no longer valid; reload the page and sign in again.";
            case 403: return what + " was refused: " + (msg || "forbidden") + ".";
            case 413: return (what === "Sending the files" ? "A file is too large: " : "The manifest is too large: ") + (msg || "over the server's size limit") + ".";
            case 415: return "The manifest's type is not accepted: " + (msg || "use a .json or .csv file") + ".";
            case 422: return (what === "Sending the files" ? "The files were refused: " : "The manifest was refused: ") + (msg || "it cannot be registered") + ".";
            case 429: return "Too many requests for this API key: " + msg + ".";
            default: return what + " failed (HTTP " + r.status + ")" + (msg ? ": " + msg : "") + ".";
          }
        }
        function say(el, text){ if(el) el.textContent = text; }
        var enc = encodeURIComponent;

        var form = document.getElementById("new-upload");
        if(form){
          var sel = document.getElementById("folder"), nameField = document.getElementById("folder-name-field"),
              nameIn = document.getElementById("folder-name"), file = document.getElementById("manifest"),
              ignore = document.getElementById("ignore-errors"), btn = document.getElementById("start-upload"),
              status = document.getElementById("new-upload-status"), err = document.getElementById("new-upload-error");
          var syncFolder = function(){ var isNew = sel.value === ""; nameField.hidden = !isNew; nameIn.required = isNew; };
          sel.addEventListener("change", function(){ syncFolder(); if(sel.value === "") nameIn.focus(); });
          syncFolder();
          // A manifest, or files from this computer: only the chosen one's fields show.
          var files = document.getElementById("files"), asSel = document.getElementById("as"), titleIn = document.getElementById("title");
          var sendsFiles = function(){ return document.getElementById("source-files").checked; };
          var syncSource = function(){ var f = sendsFiles();
            document.getElementById("manifest-field").hidden = f; file.required = !f;
            document.getElementById("files-field").hidden = !f; files.required = f;
            document.getElementById("as-field").hidden = !f;
            document.getElementById("title-field").hidden = !f || asSel.value === ""; titleIn.required = f && asSel.value !== ""; };
          document.querySelectorAll("input[name=source]").forEach(function(r){ r.addEventListener("change", syncSource); });
          asSel.addEventListener("change", syncSource);
          syncSource();
          var fail = function(text, focus){ say(status, ""); say(err, text); btn.disabled = false;
            if(focus){ focus.setAttribute("aria-invalid", "true"); focus.focus(); } };
          [nameIn, file, document.getElementById("files"), document.getElementById("title")].forEach(function(el){ el.addEventListener("input", function(){ el.removeAttribute("aria-invalid"); }); });
          // A typed name: create the folder, or find it when it exists already (409).
          var folderId = function(){
            if(sel.value !== "") return Promise.resolve({id: sel.value});
            var name = nameIn.value.trim();
            return send("POST", "/v1/folders", JSON.stringify({name: name}), "application/json").then(function(r){
              if(r.ok) return {id: r.json.id};
              if(r.status !== 409) return {error: problem(r, "Creating the folder"), focus: nameIn};
              for(var i = 0; i < sel.options.length; i++) if(sel.options[i].value && sel.options[i].text === name) return {id: sel.options[i].value};
              var look = function(cursor){
                return send("GET", "/v1/folders?limit=1000" + (cursor ? "&cursor=" + enc(cursor) : "")).then(function(p){
                  if(!p.ok) return {error: problem(p, "Finding the folder")};
                  for(var k = 0; k < p.json.items.length; k++) if(p.json.items[k].name === name) return {id: p.json.items[k].id};
                  return p.json.nextCursor ? look(p.json.nextCursor) : {error: "The folder " + name + " exists but could not be found."};
                });
              };
              return look(null);
            });
          };
          // Files: one multipart request to POST /v1/folders/{id}/files (the API stores them
          // only when every one passed, then registers them as one upload).
          var sendFiles = function(){
            var list = files.files || [];
            if(!list.length) return fail("Choose one or more files.", files);
            if(list.length > 1000) return fail("At most 1,000 files at once (" + list.length + " chosen); use registrar upload for more.", files);
            if(asSel.value !== "" && !titleIn.value.trim()) return fail("Enter a title for the " + asSel.options[asSel.selectedIndex].text.replace(/^One /, "") + ".", titleIn);
            if(sel.value === "" && !nameIn.value.trim()) return fail("Enter a name for the new folder.", nameIn);
            var data = new FormData();
            for(var i = 0; i < list.length; i++) data.append("files", list[i], list[i].name);
            btn.disabled = true;
            say(status, "Sending " + list.length + " file" + (list.length === 1 ? "" : "s") + "…");
            folderId().then(function(folder){
              if(folder.error) return fail(folder.error, folder.focus);
              var q = "?ignoreErrors=" + (ignore.checked ? "true" : "false");
              if(asSel.value !== "") q += "&as=" + enc(asSel.value) + "&title=" + enc(titleIn.value.trim());
              return send("POST", "/v1/folders/" + enc(folder.id) + "/files" + q, data, null).then(function(r){
                if(!r.ok || !r.json || !r.json.id) return fail(problem(r, "Sending the files"), files);
                say(status, "Upload started; opening its page…");
                location.assign("/uploads/" + enc(r.json.id));
              });
            });
          };
          form.addEventListener("submit", function(ev){
            ev.preventDefault();
            say(err, "");
            if(sendsFiles()) return sendFiles();
            var f = file.files && file.files[0];
            if(!f) return fail("Choose a manifest file.", file);
            var ext = (/\.([A-Za-z0-9]+)$/.exec(f.name) || [])[1], type = {json: "application/json", csv: "text/csv"}[(ext || "").toLowerCase()];
            if(!type) return fail("The manifest must be a .json or .csv file (" + f.name + " is neither).", file);
            if(sel.value === "" && !nameIn.value.trim()) return fail("Enter a name for the new folder.", nameIn);
            btn.disabled = true;
            say(status, "Sending " + f.name + "…");
            folderId().then(function(folder){
              if(folder.error) return fail(folder.error, folder.focus);
              return send("POST", "/v1/folders/" + enc(folder.id) + "/uploads?ignoreErrors=" + (ignore.checked ? "true" : "false")
                          + "&fileName=" + enc(f.name), f, type).then(function(r){
                if(!r.ok || !r.json || !r.json.id) return fail(problem(r, "Starting the upload"), file);
                say(status, "Upload started; opening its page…");
                location.assign("/uploads/" + enc(r.json.id));
              });
            });
          });
        }

        document.querySelectorAll("[data-actions-for]").forEach(function(box){
          var id = box.getAttribute("data-actions-for"), status = document.getElementById("action-status"),
              err = document.getElementById("action-error");
          box.querySelectorAll("button[data-action]").forEach(function(b){
            b.addEventListener("click", function(){
              var action = b.getAttribute("data-action");
              if(action === "cancel" && !window.confirm("Cancel this upload? Units not yet verified are not registered.")) return;
              say(err, ""); b.disabled = true;
              say(status, action === "cancel" ? "Cancelling…" : "Starting a retry of the failed units…");
              send("POST", "/v1/uploads/" + enc(id) + "/" + action).then(function(r){
                if(!r.ok){ b.disabled = false; say(status, ""); say(err, problem(r, action === "cancel" ? "Cancelling" : "Retrying")); return; }
                if(action === "retry" && r.json && r.json.id){ say(status, "Retry started; opening it…"); location.assign("/uploads/" + enc(r.json.id)); return; }
                say(status, "Cancel requested: the units still waiting are being cancelled.");
              });
            });
          });
        });
        })();
        """#

    /// Follows running uploads: one `EventSource` on `/v1/uploads/{id}/events` per running
    /// upload (at most four: browsers allow six connections per host over HTTP/1.1); any further
    /// running uploads are re-read from `/v1/uploads?status=PENDING` every five seconds. The key
    /// travels in the HttpOnly cookie; the script never sees it.
    static let liveScript = #"""
        (function(){
        "use strict";
        var MAX_STREAMS = 4;
        var fmt = function(n){ return n == null ? "?" : Number(n).toLocaleString("en-US"); };
        var labels = {PENDING:"Running", DONE:"Done", ERROR:"Error", CANCELLED:"Cancelled"};
        var liveEl = document.getElementById("live"), liveText = document.getElementById("live-text");
        function setLive(state, text){ if(!liveEl) return; liveEl.className = "live " + state; liveText.textContent = text; }
        function pct(part, whole){ return whole > 0 ? Math.floor(part * 1000 / whole) / 10 : 0; }
        function dur(s){ if(s < 60) return s + " s"; if(s < 3600) return Math.floor(s/60) + " min " + (s%60) + " s";
          return Math.floor(s/3600) + " h " + Math.floor(s%3600/60) + " min"; }
        function rate(u){ var r = Number(u.rate) || 0;
          var t = r >= 10 ? Math.round(r).toLocaleString("en-US") + " units/s" : r.toFixed(1) + " units/s";
          return u.status === "PENDING" ? t : t + " (average)"; }
        function eta(u){ if(u.status !== "PENDING") return "\u2014"; if(u.etaSeconds != null) return dur(u.etaSeconds);
          return u.totalKnown ? "unknown (no rate yet)" : "unknown (total not known yet)"; }
        function time(iso){ return iso ? iso.slice(0,10) + " " + iso.slice(11,19) + " UTC" : "\u2014"; }
        function set(root, f, text){ root.querySelectorAll('[data-f="' + f + '"]').forEach(function(e){ e.textContent = text; }); }
        function setTime(root, f, iso){ root.querySelectorAll('[data-f="' + f + '"]').forEach(function(e){
          e.textContent = time(iso); if(iso && e.tagName === "TIME") e.setAttribute("datetime", iso); }); }
        function apply(u){
          document.querySelectorAll('[data-upload="' + u.id + '"]').forEach(function(root){ update(root, u); });
        }
        function update(root, u){
          var fin = u.done + u.errors + u.skipped + u.cancelled, total = u.totalKnown ? u.total : null;
          set(root, "finished", fmt(fin)); set(root, "total", total == null ? "?" : fmt(total));
          set(root, "percent", total == null ? "total not known yet" : pct(fin, total).toFixed(1) + "%");
          ["done","errors","skipped","cancelled"].forEach(function(k){
            set(root, k, fmt(u[k]));
            root.querySelectorAll('[data-seg="' + k + '"]').forEach(function(s){
              s.style.width = (total ? u[k] * 100 / total : 0) + "%"; });
          });
          set(root, "pending", fmt(u.pending)); set(root, "phase", u.phase); set(root, "rate", rate(u)); set(root, "eta", eta(u));
          setTime(root, "startedAt", u.startedAt); setTime(root, "finishedAt", u.finishedAt);
          var breakdown = fmt(u.done) + " done, " + fmt(u.errors) + " errors, " + fmt(u.skipped) + " skipped, " + fmt(u.cancelled) + " cancelled";
          root.querySelectorAll('[data-f="bar"]').forEach(function(b){
            b.classList.toggle("unknown", total == null);
            if(total == null){ b.removeAttribute("aria-valuemax"); b.removeAttribute("aria-valuenow");
              b.setAttribute("aria-valuetext", fmt(fin) + " units processed; total not known yet. " + breakdown); }
            else { b.setAttribute("aria-valuemax", String(total)); b.setAttribute("aria-valuenow", String(Math.min(fin, total)));
              b.setAttribute("aria-valuetext", fmt(fin) + " of " + fmt(total) + " units processed (" + pct(fin, total).toFixed(1) + "%). " + breakdown); }
          });
          document.querySelectorAll('[data-status-of="' + u.id + '"]').forEach(function(s){
            s.textContent = labels[u.status] || u.status; s.className = "badge s-" + u.status.toLowerCase(); });
          document.querySelectorAll('[data-actions-for="' + u.id + '"]').forEach(function(a){
            a.querySelectorAll('[data-action="cancel"]').forEach(function(b){ b.hidden = u.status !== "PENDING"; });
            a.querySelectorAll('[data-action="retry"]').forEach(function(b){ b.hidden = !(u.status !== "PENDING" && u.errors > 0); });
          });
          var was = root.getAttribute("data-status");
          root.setAttribute("data-status", u.status);
          if(was === "PENDING" && u.status !== "PENDING") setLive("on", "Upload " + u.id + " finished: " + (labels[u.status] || u.status) + ".");
          var atLoad = root.getAttribute("data-errors-at-load"), note = document.getElementById("new-errors");
          if(atLoad != null && note && u.errors > Number(atLoad)){
            note.hidden = false;
            note.innerHTML = "";
            note.appendChild(document.createTextNode(fmt(u.errors - Number(atLoad)) + " more errors since this page loaded. "));
            var a = document.createElement("a"); a.href = location.pathname + location.search; a.textContent = "Reload to see them";
            note.appendChild(a);
          }
        }
        var running = [];
        document.querySelectorAll('[data-upload][data-status="PENDING"]').forEach(function(e){
          var id = e.getAttribute("data-upload"); if(running.indexOf(id) < 0) running.push(id); });
        if(running.length === 0){ setLive("", "Nothing is running; this page shows final numbers."); return; }
        var open = 0, streams = [];
        // Leaving the page closes its streams at once: otherwise they can hold the browser's six
        // connections to this host (pages kept in the back/forward cache), and the next page's
        // requests wait for them.
        window.addEventListener("pagehide", function(){ streams.forEach(function(es){ es.close(); }); });
        function status(){ setLive(open > 0 ? "on" : "off", open > 0 ? "Live: following " + running.length + " running upload" + (running.length === 1 ? "" : "s") + "."
          : "Live updates paused (reconnecting\u2026)."); }
        running.slice(0, MAX_STREAMS).forEach(function(id){
          var es = new EventSource("/v1/uploads/" + encodeURIComponent(id) + "/events"), up = false;
          streams.push(es);
          es.onopen = function(){ if(!up){ up = true; open++; } status(); };
          es.onerror = function(){ if(up){ up = false; open--; } if(es.readyState === 2) return; status(); };
          es.addEventListener("progress", function(e){ apply(JSON.parse(e.data)); });
          es.addEventListener("end", function(e){ apply(JSON.parse(e.data)); es.close(); if(up){ up = false; open--; }
            running.splice(running.indexOf(id), 1);
            if(running.length === 0) setLive("on", "All uploads on this page have finished."); });
        });
        if(running.length > MAX_STREAMS){
          setInterval(function(){
            fetch("/v1/uploads?status=PENDING&limit=100", {credentials: "same-origin"}).then(function(r){ return r.ok ? r.json() : null; })
              .then(function(page){ if(!page) return; var seen = {}; page.items.forEach(function(u){ seen[u.id] = 1; apply(u); });
                running.slice(MAX_STREAMS).forEach(function(id){ if(!seen[id]) fetch("/v1/uploads/" + encodeURIComponent(id), {credentials: "same-origin"})
                  .then(function(r){ return r.ok ? r.json() : null; }).then(function(u){ if(!u) return; apply(u);
                    if(u.status !== "PENDING" && running.indexOf(id) >= MAX_STREAMS) running.splice(running.indexOf(id), 1); }); }); });
          }, 5000);
        }
        })();
        """#
}
