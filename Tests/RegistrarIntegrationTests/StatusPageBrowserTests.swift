import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The status page in a real browser: Debian's headless Chromium, driven by selenium
/// (scripts/status-page-browser.py), looks at `/` while an upload runs on the real pipeline
/// (api + coordinator + a slowed worker) and checks what a person would see: the login form,
/// the upload's phase and numbers, numbers moving live over SSE, the error table and its code
/// filter, the download links. The numbers it read are then checked against PostgreSQL.
/// Screenshots are kept in `.build/test-artifacts/` (or `$REGISTRAR_TEST_ARTIFACTS`).
/// Nested in `LiveServers`: it shares the broker's queues and Redis with the other live suites.
extension LiveServers {
@Suite(.serialized) struct StatusPageBrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func statusPageInChromiumDuringALiveUpload() async throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }

        // A tenant, its key, and the three processes. The worker pauses before each chunk so the
        // upload is still running while the browser looks.
        let apiProcess = try APIHarness(h)
        let base = apiProcess.base
        let key = try apiProcess.tenantKey("page-\(h.id)")
        try #require(key.hasPrefix("rgk_"))
        try h.startCoordinator(extraArgs: ["--chunk-units", "40"])
        try h.start("worker", ["worker", "--concurrency", "16"], extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "400"])

        let folder = try await api(base, key, "POST", "/v1/folders", json: #"{"name": "page-check"}"#)
        try #require(folder.status == 201, "create folder: \(folder.status) \(folder.text)")
        let folderID = try #require(folder.json["id"] as? String)

        // A small upload that finishes with errors before the big one starts: the page retries it.
        let sample = try MediaSamples.bytes("images/png-rgb8.png")
        var small: [String] = []
        for i in 0..<20 {
            small.append(i % 4 == 1 ? #"{"objectUrl": "\#(h.objectURL("img/gone-\(i).png"))"}"#
                                    : #"{"objectUrl": "\#(try h.putObject("img/f-\(i).png", bytes: sample))"}"#)
        }
        let smallErrors = 5
        let failing = try await api(base, key, "POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true&fileName=retry-me.json",
                                    body: Data(("{\"images\": [" + small.joined(separator: ",") + "]}").utf8), contentType: "application/json")
        try #require(failing.status == 202, "submit small: \(failing.status) \(failing.text)")
        let failingID = try #require(failing.json["id"] as? String)

        // ~3,000 images: every 25th never written (404 → not_found), every 40th unreadable
        // (403 → access_denied), spread over the whole manifest so every chunk has some.
        var items: [String] = []
        var errors: [String: Int] = [:]
        let total = 3000
        for i in 0..<total {
            if i % 25 == 3 {
                items.append(#"{"objectUrl": "\#(h.objectURL("img/missing-\(i).png"))"}"#)
                errors["not_found", default: 0] += 1
            } else if i % 40 == 7 {
                items.append(#"{"objectUrl": "\#(try h.putObject("img/locked-\(i).png", bytes: sample, readable: false))"}"#)
                errors["access_denied", default: 0] += 1
            } else {
                items.append(#"{"objectUrl": "\#(try h.putObject("img/\(i).png", bytes: sample))", "title": "image <\#(i)> & co"}"#)
            }
        }
        let manifest = "{\"images\": [\n" + items.joined(separator: ",\n") + "\n]}\n"
        let fileName = "browser <check> & \"quotes\".json"   // must come back escaped, not as markup

        let smallDone = try h.waitForJob(failingID, timeout: 30)
        try #require(smallDone.int("errors") == smallErrors, "small upload: \(smallDone)")
        var fileParam = CharacterSet.alphanumerics
        fileParam.insert(charactersIn: "-._~")
        let submitted = try await api(base, key, "POST",
                                      "/v1/folders/\(folderID)/uploads?ignoreErrors=true&fileName=\(fileName.addingPercentEncoding(withAllowedCharacters: fileParam)!)",
                                      body: Data(manifest.utf8), contentType: "application/json")
        try #require(submitted.status == 202, "submit: \(submitted.status) \(submitted.text)")
        let jobID = try #require(submitted.json["id"] as? String)
        // The same manifest again, queued behind it: the page cancels this one while it waits.
        let other = try await api(base, key, "POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true&fileName=cancel-me.json",
                                  body: Data(manifest.utf8), contentType: "application/json")
        try #require(other.status == 202, "submit second: \(other.status) \(other.text)")
        let cancelID = try #require(other.json["id"] as? String)

        // Start the browser once the job is under way (some units finished, far from the end).
        let deadline = Date().addingTimeInterval(30)
        while true {
            let s = try await api(base, key, "GET", "/v1/uploads/\(jobID)")
            let finished = ["done", "errors", "skipped", "cancelled"].reduce(0) { $0 + ((s.json[$1] as? Int) ?? 0) }
            if s.json["totalKnown"] as? Bool == true, finished > 0 { break }
            try #require(Date() < deadline, "the upload did not start: \(s.text)\n\(h.log("coordinator").suffix(2000))")
            try await Task.sleep(nanoseconds: 200_000_000)
        }

        let artifacts = ProcessInfo.processInfo.environment["REGISTRAR_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? Self.packageRoot.appendingPathComponent(".build/test-artifacts")
        let venv = ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv"
        let started = Date()
        let browser = try runProcess(venv + "/bin/python", [
            Self.packageRoot.appendingPathComponent("scripts/status-page-browser.py").path,
            "--base", base, "--key", key, "--upload", jobID, "--file-name", fileName, "--total", String(total),
            "--codes", errors.keys.sorted().joined(separator: ","), "--screenshots", artifacts.path,
            "--cancel", cancelID, "--retry", failingID,
        ], harness: h)
        print("status page browser check: \(String(format: "%.1f", Date().timeIntervalSince(started))) s; screenshots: "
              + ["status-page.png", "status-page-list.png", "status-page-login.png", "status-page-cancel.png", "status-page-retry.png"].map { artifacts.appendingPathComponent($0).path }.joined(separator: ", "))
        try #require(browser.status == 0, "browser check failed (exit \(browser.status)):\n\(browser.stderr.suffix(4000))\n\(browser.stdout)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(browser.lastLine.utf8)) as? [String: Any])

        // What the browser read must be the pipeline's numbers: never above the final counts,
        // growing, and on the upload page the codes PostgreSQL holds.
        let first = try #require(seen["first"] as? [String: Any])
        let second = try #require(seen["second"] as? [String: Any])
        #expect(first.int("total") == total && second.int("total") == total)
        #expect(second.int("finished") > first.int("finished"))
        #expect(second.int("done") >= first.int("done") && second.int("errors") >= first.int("errors"))
        let chosen = try #require(seen["chosen"] as? String)
        let rowsFiltered = (seen["rowsFiltered"] as? Int) ?? -1
        let inDB = try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1 AND code = $2", [jobID, chosen])
        #expect(rowsFiltered >= 1 && rowsFiltered <= inDB, "filtered rows \(rowsFiltered), PostgreSQL now \(inDB)")
        #expect((seen["csvRows"] as? Int ?? -1) >= rowsFiltered)
        for code in (seen["codesAll"] as? [String]) ?? [] { #expect(errors[code] != nil, "unexpected code \(code)") }

        // The page's escaping: the file name is text, never markup.
        let page = try await api(base, key, "GET", "/uploads/\(jobID)", cookie: true)
        #expect(page.status == 200)
        #expect(page.text.contains("browser &lt;check&gt; &amp; &quot;quotes&quot;.json"))
        #expect(!page.text.contains("<check>"))
        #expect(!page.text.contains(key))

        // Let it finish at full speed (a fresh worker without the pause; the slowed one is
        // killed, its unacknowledged chunks are redelivered) and compare with the plan and PostgreSQL.
        // The slowed worker stops; a fresh one without the pause starts once the page has shown
        // the new upload waiting (the browser says so through a file), so the page sees it move.
        // The killed worker's unacknowledged chunks are redelivered.
        h.kill9("worker")
        // A new upload through the page alone: a new folder, a manifest file from disk (a refused
        // one first: the API's 422 message is shown), progress followed live until it ends.
        var good: [String] = []
        for i in 0..<60 where i % 25 != 3 && i % 40 != 7 { good.append(#"{"objectUrl": "\#(h.objectURL("img/\(i).png"))"}"#) }
        let newMissing = 4
        for i in 0..<newMissing { good.append(#"{"objectUrl": "\#(h.objectURL("img/never-\(i).png"))"}"#) }
        let manifestPath = h.workDir.appendingPathComponent("from-disk.json")
        try Data(("{\"images\": [\n" + good.joined(separator: ",\n") + "\n]}\n").utf8).write(to: manifestPath)
        let badPath = h.workDir.appendingPathComponent("broken.json")
        try Data("{\"images\": [{\"objectUrl\": ".utf8).write(to: badPath)
        let newFolder = "made in the browser \(h.id)"
        let signal = h.workDir.appendingPathComponent("page-saw-upload")
        let workerStarted = DispatchSemaphore(value: 0)
        let harness = UncheckedBox(h)
        DispatchQueue.global().async {
            let until = Date().addingTimeInterval(40)
            while !FileManager.default.fileExists(atPath: signal.path) && Date() < until { usleep(100_000) }
            try? harness.value.startWorker("worker-fast")
            workerStarted.signal()
        }
        let started2 = Date()
        let browser2 = try runProcess(venv + "/bin/python", [
            Self.packageRoot.appendingPathComponent("scripts/status-page-browser.py").path,
            "--phase", "upload", "--base", base, "--key", key, "--screenshots", artifacts.path,
            "--manifest", manifestPath.path, "--bad-manifest", badPath.path, "--folder-name", newFolder, "--signal", signal.path,
        ], harness: h)
        if !FileManager.default.fileExists(atPath: signal.path) { FileManager.default.createFile(atPath: signal.path, contents: nil) }
        workerStarted.wait()
        print("status page browser upload: \(String(format: "%.1f", Date().timeIntervalSince(started2))) s; screenshot: "
              + artifacts.appendingPathComponent("status-page-new-upload.png").path)
        try #require(browser2.status == 0, "browser upload failed (exit \(browser2.status)):\n\(browser2.stderr.suffix(4000))\n\(browser2.stdout)")
        let seen2 = try #require(try JSONSerialization.jsonObject(with: Data(browser2.lastLine.utf8)) as? [String: Any])
        #expect((seen2["badAlert"] as? String ?? "").hasPrefix("The manifest was refused: "), "\(seen2["badAlert"] ?? "-")")
        let newID = try #require(seen2["uploadId"] as? String)
        let made = try await api(base, key, "GET", "/v1/uploads/\(newID)")
        let newTotal = good.count
        #expect(made.json["fileName"] as? String == "from-disk.json" && made.json.int("total") == newTotal, "\(made.text)")
        #expect(made.json["status"] as? String == "DONE" && made.json.int("errors") == newMissing, "\(made.text)")
        let madeFolder = try await api(base, key, "GET", "/v1/folders/\(made.json["folderId"] as? String ?? "-")")
        #expect(madeFolder.json["name"] as? String == newFolder)
        #expect(try h.count("SELECT count(*) FROM folders WHERE name = $1", [newFolder]) == 1)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [newID]) == newTotal - newMissing)
        let watched = try #require(seen2["final"] as? [String: Any])
        #expect(watched.int("total") == newTotal && watched.int("finished") == newTotal && watched.int("errors") == newMissing)
        #expect(seen2["sawLiveChange"] as? Bool == true, "the new upload's page did not update live: \(seen2)")

        // Two files from disk through the same form ("Files from this computer": multipart POST
        // /v1/folders/{id}/files), into the folder made above; the page follows the job to DONE.
        let picked = try ["images/png-rgb8.png", "images/jpeg-baseline.jpg"].map { kind -> URL in
            let url = h.workDir.appendingPathComponent("picked-" + (kind as NSString).lastPathComponent)
            try Data(MediaSamples.bytes(kind)).write(to: url)
            return url
        }
        let browser3 = try runProcess(venv + "/bin/python", [
            Self.packageRoot.appendingPathComponent("scripts/status-page-browser.py").path,
            "--phase", "files", "--base", base, "--key", key, "--screenshots", artifacts.path,
            "--folder-name", newFolder, "--files", picked.map(\.path).joined(separator: ","),
        ], harness: h)
        try #require(browser3.status == 0, "browser files upload failed (exit \(browser3.status)):\n\(browser3.stderr.suffix(4000))\n\(browser3.stdout)")
        let seen3 = try #require(try JSONSerialization.jsonObject(with: Data(browser3.lastLine.utf8)) as? [String: Any])
        #expect(seen3["titleRequired"] as? Bool == true, "an image group without a title was not stopped: \(seen3)")
        #expect(seen3["status"] as? String == "DONE", "\(seen3)")
        let filesID = try #require(seen3["uploadId"] as? String)
        let sent = try await api(base, key, "GET", "/v1/uploads/\(filesID)")
        #expect(sent.json["status"] as? String == "DONE" && sent.json.int("total") == 2 && sent.json.int("done") == 2, "\(sent.text)")
        #expect(sent.json["folderId"] as? String == made.json["folderId"] as? String)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND title IN ('picked-png-rgb8.png', 'picked-jpeg-baseline.jpg') AND width IS NOT NULL", [filesID]) == 2)

        // Cancelled through the page: it ends CANCELLED with units cancelled, fewer files than units.
        let cancelled = try h.waitForJob(cancelID, timeout: 60)
        #expect(cancelled.string("status") == "CANCELLED" && cancelled.int("cancelled") > 0, "\(cancelled)")
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [cancelID]) < total)
        #expect(seen["cancelStatus"] as? String == "Cancel requested: the units still waiting are being cancelled.")
        // Retried through the page: a new upload of exactly the failed units.
        let retryID = try #require(seen["retryId"] as? String)
        #expect(retryID != failingID)
        let retried = try h.waitForJob(retryID, timeout: 60)
        #expect(retried.int("total") == smallErrors && retried.int("errors") == smallErrors, "\(retried)")
        let retryRow = try await api(base, key, "GET", "/v1/uploads/\(retryID)")
        #expect(retryRow.json["retryOf"] as? String == failingID)

        let final = try h.waitForJob(jobID, timeout: 90)
        let plannedErrors = errors.values.reduce(0, +)
        #expect(final.int("total") == total && final.int("done") == total - plannedErrors && final.int("errors") == plannedErrors)
        let done = try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID])
        let failed = try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1", [jobID])
        #expect(done == total - plannedErrors && failed == plannedErrors)
        #expect(second.int("done") <= done && second.int("errors") <= failed,
                "the page showed more than PostgreSQL holds: \(second) vs done \(done), errors \(failed)")
        let later = (seen["uploadPageLater"] as? [String: Any]) ?? [:]
        #expect(later.int("done") <= done && later.int("errors") <= failed)

        // Finished: the list shows the final numbers, all of them.
        let list = try await api(base, key, "GET", "/", cookie: true)
        #expect(list.text.contains("data-status=\"\(final.string("status"))\""))
        #expect(list.text.contains("<span data-f=\"finished\">3,000</span> of <span data-f=\"total\">3,000</span>"))
        #expect(list.text.contains("errors <b data-f=\"errors\">\(HTMLNumber.group(plannedErrors))</b>"))
    }

    @Test func loginLogoutAndTenantIsolation() async throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let apiProcess = try APIHarness(h)
        let base = apiProcess.base
        let keyA = try apiProcess.tenantKey("a-\(h.id)")
        let keyB = try apiProcess.tenantKey("b-\(h.id)")

        // Without a cookie: the login form, with a label for the key input.
        let anon = try await api(base, nil, "GET", "/")
        #expect(anon.status == 200)
        #expect(anon.text.contains("<label for=\"key\">API key</label>") && anon.text.contains("type=\"password\""))
        #expect(anon.headers["Content-Security-Policy"]?.contains("script-src 'nonce-") == true)

        // A wrong key: 401, the form again, the key not echoed, no cookie.
        let wrong = "rgk_" + String(repeating: "Z", count: 40)
        let bad = try await api(base, nil, "POST", "/login", form: "key=\(wrong)")
        #expect(bad.status == 401)
        #expect(!bad.text.contains(wrong) && bad.text.contains("role=\"alert\""))
        #expect(bad.headers["Set-Cookie"] == nil)

        // From another site: refused.
        let cross = try await api(base, nil, "POST", "/login", form: "key=\(keyA)", extraHeaders: ["Origin": "http://evil.example"])
        #expect(cross.status == 403 && cross.headers["Set-Cookie"] == nil)

        // The right key: 303 to /, the cookie with its flags. X-Forwarded-Proto from a peer that
        // is not a trusted proxy is ignored (no Secure over plain http); behind a trusted proxy
        // it counts (APITrustLiveTests.cookieWritesNeedTheRequestsOwnOrigin).
        let good = try await api(base, nil, "POST", "/login", form: "key=\(keyA)&next=%2F", extraHeaders: ["X-Forwarded-Proto": "https"])
        #expect(good.status == 303 && good.headers["Location"] == "/")
        let setCookie = good.headers["Set-Cookie"] ?? ""
        #expect(setCookie.hasPrefix("registrar_key=\(keyA)"))
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] { #expect(setCookie.contains(flag), "cookie lacks \(flag): \(setCookie)") }
        #expect(!setCookie.contains("Secure"), "an untrusted X-Forwarded-Proto was believed: \(setCookie)")
        let plain = try await api(base, nil, "POST", "/login", form: "key=\(keyA)")
        #expect(!(plain.headers["Set-Cookie"] ?? "").contains("Secure"))
        // An open redirect is not possible.
        let away = try await api(base, nil, "POST", "/login", form: "key=\(keyA)&next=https%3A%2F%2Fevil.example")
        #expect(away.headers["Location"] == "/")

        // Tenant B's upload is invisible to A's page (404), visible to B's.
        let folder = try await api(base, keyB, "POST", "/v1/folders", json: #"{"name": "b"}"#)
        let folderID = try #require(folder.json["id"] as? String)
        let up = try await api(base, keyB, "POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true&fileName=secret-b.json",
                               body: Data(#"{"images": [{"objectUrl": "\#(h.objectURL("x.png"))"}]}"#.utf8), contentType: "application/json")
        let jobB = try #require(up.json["id"] as? String)
        let listA = try await api(base, keyA, "GET", "/", cookie: true)
        #expect(listA.status == 200 && !listA.text.contains("secret-b.json") && !listA.text.contains(jobB))
        #expect(listA.text.contains("No uploads yet"))
        let pageA = try await api(base, keyA, "GET", "/uploads/\(jobB)", cookie: true)
        #expect(pageA.status == 404 && !pageA.text.contains("secret-b.json"))
        let listB = try await api(base, keyB, "GET", "/", cookie: true)
        #expect(listB.text.contains("secret-b.json") && listB.text.contains(jobB))

        // A revoked or malformed cookie: the form again, the cookie cleared.
        let stale = try await api(base, "rgk_" + String(repeating: "Q", count: 40), "GET", "/", cookie: true)
        #expect(stale.status == 401 && stale.text.contains("no longer valid"))
        #expect(stale.headers["Set-Cookie"]?.contains("Max-Age=0") == true)

        // Writes to /v1 with the cookie must come from this site (defence beside SameSite=Strict);
        // bearer keys are not affected.
        let csrfName = "csrf-\(h.id)"
        let folderBody = #"{"name": "\#(csrfName)"}"#
        let evil = try await api(base, keyA, "POST", "/v1/folders", json: folderBody, cookie: true, extraHeaders: ["Origin": "http://evil.example"])
        #expect(evil.status == 403 && (evil.json["error"] as? [String: Any])?["code"] as? String == "cross_site_request", "\(evil.status) \(evil.text)")
        let silent = try await api(base, keyA, "POST", "/v1/folders", json: folderBody, cookie: true)
        #expect(silent.status == 403, "cookie POST without Origin or Sec-Fetch-Site: \(silent.status)")
        let crossFetch = try await api(base, keyA, "POST", "/v1/uploads/\(jobB)/cancel", cookie: true, extraHeaders: ["Sec-Fetch-Site": "cross-site"])
        #expect(crossFetch.status == 403)
        let nullOrigin = try await api(base, keyA, "POST", "/v1/folders", json: folderBody, cookie: true, extraHeaders: ["Origin": "null"])
        #expect(nullOrigin.status == 403)
        #expect(try h.count("SELECT count(*) FROM folders WHERE name = $1", [csrfName]) == 0)
        let ownSite = try await api(base, keyA, "POST", "/v1/folders", json: folderBody, cookie: true, extraHeaders: ["Origin": base])
        #expect(ownSite.status == 201, "\(ownSite.status) \(ownSite.text)")
        let fetchMeta = try await api(base, keyA, "POST", "/v1/folders", json: #"{"name": "csrf-2"}"#, cookie: true,
                                      extraHeaders: ["Sec-Fetch-Site": "same-origin"])
        #expect(fetchMeta.status == 201)
        let bearer = try await api(base, keyB, "POST", "/v1/folders", json: #"{"name": "csrf-b"}"#, extraHeaders: ["Origin": "http://evil.example"])
        #expect(bearer.status == 201, "bearer keys are not checked for Origin: \(bearer.status)")
        let readCross = try await api(base, keyA, "GET", "/v1/folders", cookie: true, extraHeaders: ["Origin": "http://evil.example"])
        #expect(readCross.status == 200)

        // Logout clears the cookie.
        let out = try await api(base, keyA, "POST", "/logout", cookie: true)
        #expect(out.status == 303 && out.headers["Set-Cookie"]?.contains("Max-Age=0") == true)
    }

    // MARK: - Helpers

    struct Reply {
        var status: Int
        var text: String
        var headers: [String: String]
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
    }

    /// One HTTP request. `cookie: true` sends the key as the status page's cookie instead of a
    /// bearer header. Redirects are not followed (the tests look at them).
    func api(_ base: String, _ key: String?, _ method: String, _ path: String, json: String? = nil, body: Data? = nil,
             contentType: String? = nil, form: String? = nil, cookie: Bool = false, extraHeaders: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let key {
            if cookie { request.setValue("registrar_key=\(key)", forHTTPHeaderField: "Cookie") }
            else { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        }
        if let json { request.httpBody = Data(json.utf8); request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let body { request.httpBody = body }
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let form {
            request.httpBody = Data(form.utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        for (k, v) in extraHeaders { request.setValue(v, forHTTPHeaderField: k) }
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k)] = String(describing: v) }
        // Case-insensitive lookups by the canonical names used above.
        for name in ["Set-Cookie", "Location", "Content-Security-Policy"] {
            if let v = http.value(forHTTPHeaderField: name) { headers[name] = v }
        }
        return Reply(status: http.statusCode, text: String(decoding: data, as: UTF8.self), headers: headers)
    }

    final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    /// Runs the browser driver to completion, with its output.
    func runProcess(_ executable: String, _ args: [String], harness h: PipelineHarness) throws -> PipelineHarness.Run {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("\(executable) is missing: run scripts/setup (it installs chromium, chromium-driver and selenium)")
        }
        return try h.runProgram(URL(fileURLWithPath: executable), args)
    }
}
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

enum HTMLNumber {
    static func group(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.locale = Locale(identifier: "en_US")
        return f.string(from: NSNumber(value: n)) ?? String(n)
    }
}
