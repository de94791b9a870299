#!/usr/bin/env python3
"""Drives Debian's headless Chromium through Registrar's status page during a live upload.

Run by Tests/RegistrarIntegrationTests/StatusPageBrowserTests.swift (with the tools venv's python,
which has selenium; scripts/setup installs chromium, chromium-driver and selenium). It:

  1. opens `/`, finds the login form (label + password input), signs in with a wrong key
     (must be refused without echoing it), then with the real key by typing it and submitting;
  2. checks the cookie (HttpOnly, SameSite=Strict) and that the key is nowhere in the page;
  3. reads the upload's row (status, phase, progress bar aria values and the visible numbers)
     and waits, without reloading, until the numbers move (the EventSource stream works);
  4. opens the upload page with the keyboard, reads the error table, filters it by one code
     with the labelled <select>, checks the table narrowed and the CSV/JSONL links, downloads the
     CSV through the cookie, and keeps screenshots;
  5. cancels another running upload (`--cancel`) with its page's button, and retries the failed
     units of a finished one (`--retry`), landing on the new upload's page.

With `--phase upload` it instead signs in and, through the page alone, starts an upload: a new
folder typed into the "New upload" form, a refused manifest file first (the API's 422 message must
show in the alert region), then a good one from disk; it follows the new upload's page live until
the upload ends.

With `--phase files` it signs in, picks the folder `--folder-name` in the form, switches it to
"Files from this computer", checks that a title is asked for with "One image group", chooses the
`--files` from disk (one item per file) and follows the new upload's page until it is DONE.

Prints one JSON line of observations (the Swift test compares them with PostgreSQL) and exits 0;
any failed check prints `FAIL: ...` and exits 1.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def number(text):
    """'12,345' -> 12345; '?' -> None."""
    text = text.strip().replace(",", "")
    return int(text) if re.fullmatch(r"\d+", text) else None


def row_numbers(root):
    # One script call reads every field in the same turn of the page's event loop: read one by
    # one (a WebDriver round trip each), a live update landing in between mixes two snapshots.
    raw = root.parent.execute_script("""
        const root = arguments[0], id = root.getAttribute('data-upload');
        const f = name => root.querySelector('[data-f="' + name + '"]').innerText.trim();
        const bar = root.querySelector('[role="progressbar"]');
        // The badge sits in the row on the list, in the heading on the upload page.
        const badge = document.querySelector('[data-status-of="' + id + '"]');
        return {finished: f('finished'), total: f('total'), done: f('done'), errors: f('errors'), skipped: f('skipped'),
                cancelled: f('cancelled'), percent: f('percent'), phase: f('phase'), status: badge ? badge.innerText.trim() : '',
                ariaNow: bar.getAttribute('aria-valuenow'), ariaMax: bar.getAttribute('aria-valuemax'),
                ariaText: bar.getAttribute('aria-valuetext') || ''};
    """, root)
    for name in ("finished", "total", "done", "errors", "skipped", "cancelled"):
        raw[name] = number(raw[name])
    return raw


def sign_in(driver, wait, args):
    driver.get(args.base + "/")
    field = driver.find_element(By.ID, "key")
    field.send_keys(args.key)
    field.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1") and d.find_element(By.TAG_NAME, "h1").text.strip() == "Uploads")


def new_upload(driver, wait, args, observed, shot):
    """The "New upload" form: a new folder, a refused manifest, then a good one; follow it live."""
    sign_in(driver, wait, args)
    for target, text in (("folder", "Folder"), ("folder-name", "New folder name"), ("manifest", "Manifest file"),
                         ("ignore-errors", "Ignore errors")):
        label = driver.find_element(By.CSS_SELECTOR, f'label[for="{target}"]')
        check(text in label.get_attribute("textContent"), f"label for {target} reads {label.get_attribute('textContent')!r}")
    folder = Select(driver.find_element(By.ID, "folder"))
    name_field = driver.find_element(By.ID, "folder-name")
    if folder.first_selected_option.get_attribute("value") != "":
        check(not name_field.is_displayed(), "the new-folder name shows while an existing folder is chosen")
        folder.select_by_value("")
    check(name_field.is_displayed(), "choosing 'New folder…' does not show the name field")
    name_field.send_keys(args.folder_name)
    file_input = driver.find_element(By.ID, "manifest")

    # A refused manifest: the API's message, in the alert region; the page stays.
    file_input.send_keys(args.bad_manifest)
    driver.find_element(By.ID, "start-upload").click()
    alert = WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "new-upload-error").text.strip() or None)
    observed["badAlert"] = alert
    check(driver.find_element(By.ID, "new-upload-error").get_attribute("role") == "alert", "the error region is not role=alert")
    check(driver.current_url.rstrip("/") == args.base, f"a refused manifest left the page ({driver.current_url})")
    check(driver.find_element(By.ID, "start-upload").is_enabled(), "the button stays disabled after an error")
    shot("status-page-upload-refused.png")

    # The good file; the folder now exists (409 → found by name). Ignore errors, with the keyboard.
    file_input.clear()
    file_input.send_keys(args.manifest)
    box = driver.find_element(By.ID, "ignore-errors")
    box.send_keys(Keys.SPACE)
    check(box.is_selected(), "space did not tick 'Ignore errors'")
    driver.find_element(By.ID, "start-upload").send_keys(Keys.ENTER)
    wait.until(lambda d: re.search(r"/uploads/[0-9a-f-]{36}$", d.current_url))
    check(not driver.find_elements(By.CSS_SELECTOR, "#new-upload-error:not(:empty)"), "error after the good manifest")
    upload_id = driver.current_url.rsplit("/", 1)[1]
    observed["uploadId"] = upload_id
    check(os.path.basename(args.manifest) in driver.find_element(By.TAG_NAME, "h1").text, "new upload page heading")
    card = driver.find_element(By.CSS_SELECTOR, f'section[data-upload="{upload_id}"]')
    first = row_numbers(card)
    observed["firstSeen"] = first
    check(first["status"] == "Running", f"the new upload is not shown running: {first}")
    if args.signal:
        open(args.signal, "w").close()
    # Follow it live (no reload) until it ends.
    driver.execute_script("window.__registrarNoReload = 1")
    try:
        WebDriverWait(driver, 30, poll_frequency=0.2).until(lambda d: card.get_attribute("data-status") != "PENDING")
    except TimeoutException:
        raise Failure(f"the new upload did not end within 30 s: {row_numbers(card)}")
    check(driver.execute_script("return window.__registrarNoReload") == 1, "the page reloaded")
    final = row_numbers(card)
    observed["final"] = final
    observed["sawLiveChange"] = first["status"] == "Running" and final["status"] != "Running" and final["finished"] > (first["finished"] or 0)
    check(final["finished"] == final["total"], f"ended with {final}")
    shot("status-page-new-upload.png")


def files_upload(driver, wait, args, observed, shot):
    """The "New upload" form with files from disk: multipart POST /v1/folders/{id}/files."""
    sign_in(driver, wait, args)
    Select(driver.find_element(By.ID, "folder")).select_by_visible_text(args.folder_name)
    check(not driver.find_element(By.ID, "files").is_displayed(), "the file picker shows before 'Files' is chosen")
    driver.find_element(By.ID, "source-files").click()
    check(driver.find_element(By.ID, "files").is_displayed() and not driver.find_element(By.ID, "manifest").is_displayed(),
          "choosing 'Files from this computer' does not swap the manifest input for the file picker")
    for target, text in (("files", "Files"), ("as", "Register as")):
        label = driver.find_element(By.CSS_SELECTOR, f'label[for="{target}"]')
        check(text in label.get_attribute("textContent"), f"label for {target} reads {label.get_attribute('textContent')!r}")
    paths = args.files.split(",")
    driver.find_element(By.ID, "files").send_keys("\n".join(paths))
    # A group needs a title: the form says so before sending anything.
    Select(driver.find_element(By.ID, "as")).select_by_value("image-group")
    check(driver.find_element(By.ID, "title").is_displayed(), "no title field for an image group")
    driver.find_element(By.ID, "start-upload").click()
    time.sleep(0.5)
    # The browser's own validation stops the submit (the title input is required now).
    observed["titleRequired"] = driver.execute_script("return document.getElementById('title').validity.valueMissing")
    check(driver.current_url.rstrip("/") == args.base, "a group without a title left the page")
    Select(driver.find_element(By.ID, "as")).select_by_value("")
    driver.find_element(By.ID, "start-upload").click()
    wait.until(lambda d: re.search(r"/uploads/[0-9a-f-]{36}$", d.current_url))
    upload_id = driver.current_url.rsplit("/", 1)[1]
    observed["uploadId"] = upload_id
    card = driver.find_element(By.CSS_SELECTOR, f'section[data-upload="{upload_id}"]')
    try:
        WebDriverWait(driver, 60, poll_frequency=0.3).until(lambda d: card.get_attribute("data-status") not in ("PENDING", "RUNNING"))
    except TimeoutException:
        raise Failure(f"the files' upload did not end within 60 s: {row_numbers(card)}")
    observed["status"] = card.get_attribute("data-status")
    observed["final"] = row_numbers(card)
    shot("status-page-files-upload.png")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--key", required=True)
    ap.add_argument("--phase", choices=("watch", "upload", "files"), default="watch")
    ap.add_argument("--files", help="(files) comma-separated files on disk to send through the form")
    ap.add_argument("--upload", help="the running upload's id")
    ap.add_argument("--file-name")
    ap.add_argument("--total", type=int)
    ap.add_argument("--codes", default="", help="comma-separated error codes the upload produces")
    ap.add_argument("--cancel", help="a running upload to cancel through its page")
    ap.add_argument("--retry", help="a finished upload with errors to retry through its page")
    ap.add_argument("--manifest", help="(upload) a good manifest file on disk")
    ap.add_argument("--bad-manifest", help="(upload) a manifest file the API refuses")
    ap.add_argument("--folder-name", help="(upload) the new folder to type into the form")
    ap.add_argument("--signal", help="(upload) a file to create once the new upload's page is shown (the test then starts a worker)")
    ap.add_argument("--screenshots", required=True, help="directory for PNG artifacts")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = ap.parse_args()
    expected_codes = set(args.codes.split(","))
    os.makedirs(args.screenshots, exist_ok=True)
    stale = os.path.join(args.screenshots, "status-page-failure.png")
    if os.path.exists(stale):
        os.remove(stale)  # only this run's failure picture, if any, is kept
    observed = {"screenshots": []}

    opts = Options()
    opts.binary_location = args.chromium
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100",
              "--no-first-run", "--disable-extensions", "--password-store=basic"):
        opts.add_argument(a)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    profile = tempfile.mkdtemp(prefix="registrar-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
    wait = WebDriverWait(driver, 15)

    def shot(name):
        path = os.path.join(args.screenshots, name)
        # The whole page, not just the window.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(800, min(int(height) + 40, 4000)))
        driver.save_screenshot(path)
        observed["screenshots"].append(path)

    try:
        if args.phase in ("upload", "files"):
            (new_upload if args.phase == "upload" else files_upload)(driver, wait, args, observed, shot)
            driver.quit()
            print(json.dumps(observed))
            return 0

        # 1. Login form, wrong key first.
        driver.get(args.base + "/")
        label = driver.find_element(By.CSS_SELECTOR, 'label[for="key"]')
        check("API key" in label.text, f"login label reads {label.text!r}")
        field = driver.find_element(By.ID, "key")
        check(field.get_attribute("type") == "password", "the key input is not a password field")
        check(driver.get_cookie("registrar_key") is None, "a key cookie exists before signing in")
        wrong = "rgk_" + "0" * 40
        field.send_keys(wrong)
        field.send_keys(Keys.ENTER)
        alert = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '[role="alert"]'))
        check("not valid" in alert.text, f"wrong key alert reads {alert.text!r}")
        check(wrong not in driver.page_source, "the wrong key is echoed in the page")
        check(driver.find_element(By.ID, "key").get_attribute("aria-invalid") == "true", "input not marked aria-invalid")
        check(driver.get_cookie("registrar_key") is None, "a wrong key got a cookie")
        shot("status-page-login.png")

        # Real key: typed, then the submit button.
        field = driver.find_element(By.ID, "key")
        field.send_keys(args.key)
        driver.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type="submit"]').click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-upload="{args.upload}"]'))
        cookie = driver.get_cookie("registrar_key")
        check(cookie is not None and cookie["value"] == args.key, "no key cookie after signing in")
        check(cookie.get("httpOnly") is True, f"cookie not HttpOnly: {cookie}")
        check(cookie.get("sameSite") == "Strict", f"cookie not SameSite=Strict: {cookie}")
        check(cookie.get("path") == "/", f"cookie path {cookie.get('path')}")
        check(args.key not in driver.page_source, "the key appears in the page")
        check(driver.execute_script("return document.cookie").find("registrar_key") < 0, "script can read the key cookie")
        check(driver.find_element(By.TAG_NAME, "h1").text.strip() == "Uploads", "list page heading")

        # 2. The running upload's row.
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-upload="{args.upload}"]')
        first = row_numbers(row)
        observed["first"] = first
        check(first["status"] == "Running", f"status reads {first['status']!r}")
        check(first["phase"] in ("splitting", "verifying"), f"phase reads {first['phase']!r}")
        check(first["total"] == args.total, f"total reads {first['total']} (expected {args.total})")
        check(first["finished"] == first["done"] + first["errors"] + first["skipped"] + first["cancelled"],
              f"finished != sum of outcomes: {first}")
        check(first["finished"] < args.total, f"the upload already looks finished: {first}")
        check(first["ariaMax"] == str(args.total) and first["ariaNow"] == str(first["finished"]),
              f"progressbar aria values {first['ariaNow']}/{first['ariaMax']}")
        check(f"of {args.total:,} units processed" in first["ariaText"], f"aria-valuetext {first['ariaText']!r}")
        check(row.find_element(By.LINK_TEXT, args.file_name) is not None, "no link with the file name")

        # 3. Live: the numbers move without a reload.
        marker = driver.execute_script("window.__registrarNoReload = 1; return 1")
        try:
            WebDriverWait(driver, 25, poll_frequency=0.2).until(
                lambda d: (number(row.find_element(By.CSS_SELECTOR, '[data-f="finished"]').text) or 0) > first["finished"])
        except TimeoutException:
            raise Failure(f"numbers did not change within 25 s (still {row_numbers(row)}); live text: "
                          f"{driver.find_element(By.ID, 'live-text').text!r}")
        check(driver.execute_script("return window.__registrarNoReload") == marker, "the page reloaded")
        second = row_numbers(row)
        observed["second"] = second
        check(second["finished"] == second["done"] + second["errors"] + second["skipped"] + second["cancelled"],
              f"finished != sum of outcomes after update: {second}")
        check(second["ariaNow"] == str(second["finished"]) or second["finished"] > first["finished"],
              "aria-valuenow not updated")
        live = driver.find_element(By.ID, "live-text").text
        observed["liveText"] = live
        check(live.startswith("Live") or "finished" in live, f"live indicator reads {live!r}")
        shot("status-page-list.png")

        # 4. The upload page, opened with the keyboard.
        link = row.find_element(By.LINK_TEXT, args.file_name)
        link.send_keys(Keys.ENTER)
        wait.until(lambda d: d.current_url.endswith(f"/uploads/{args.upload}"))
        check(args.file_name in driver.find_element(By.TAG_NAME, "h1").text, "upload page heading")
        card = driver.find_element(By.CSS_SELECTOR, f'section[data-upload="{args.upload}"]')
        page_numbers = row_numbers(card)
        observed["uploadPage"] = page_numbers
        check(page_numbers["total"] == args.total, "upload page total")
        check(page_numbers["finished"] >= second["finished"], "upload page shows fewer units than the list did")

        codes_all = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.errors code[data-code]")]
        observed["codesAll"] = sorted(set(codes_all))
        observed["rowsAll"] = len(codes_all)
        check(len(codes_all) > 0, "the error table is empty")
        check(set(codes_all) <= expected_codes, f"unexpected codes {set(codes_all) - expected_codes}")

        select_el = driver.find_element(By.ID, "code")
        check("Error code" in driver.find_element(By.CSS_SELECTOR, 'label[for="code"]').text, "filter label")
        options = [o.get_attribute("value") for o in Select(select_el).options]
        observed["options"] = options
        check(options[0] == "", "first option is not 'all codes'")
        # Filter by the code that is *not* the most common one on this page, so the table must shrink.
        present = sorted(set(codes_all), key=lambda c: codes_all.count(c))
        chosen = present[0]
        check(len(set(codes_all)) >= 2, f"only one code on the first page ({codes_all[:5]}…): cannot test narrowing")
        Select(select_el).select_by_value(chosen)
        driver.find_element(By.CSS_SELECTOR, "form.filter button[type=submit]").click()
        wait.until(lambda d: "code=" + chosen in d.current_url)
        codes_filtered = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.errors code[data-code]")]
        observed["chosen"] = chosen
        observed["rowsFiltered"] = len(codes_filtered)
        check(len(codes_filtered) > 0, "filtered table is empty")
        check(set(codes_filtered) == {chosen}, f"filter left other codes: {set(codes_filtered)}")
        check(len(codes_filtered) < len(codes_all) or len(codes_all) == 100,
              f"filter did not narrow the table ({len(codes_filtered)} of {len(codes_all)})")
        check(Select(driver.find_element(By.ID, "code")).first_selected_option.get_attribute("value") == chosen,
              "the select does not show the chosen code")

        csv = driver.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
        jsonl = driver.find_element(By.PARTIAL_LINK_TEXT, "JSON Lines").get_attribute("href")
        observed["csvHref"] = csv
        check(f"/v1/uploads/{args.upload}/errors?format=csv" in csv and f"code={chosen}" in csv, f"CSV link {csv}")
        check(f"/v1/uploads/{args.upload}/errors?format=jsonl" in jsonl, f"JSONL link {jsonl}")
        # The cookie authenticates the download (the script never sees the key).
        body = driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(function(r){ return r.text().then(function(t){ done([r.status, t]); }); })"
            ".catch(function(e){ done([0, String(e)]); });", csv)
        observed["csvStatus"] = body[0]
        lines = [l for l in body[1].splitlines() if l]
        check(body[0] == 200 and lines and lines[0].startswith("unit,code"), f"CSV download: {body[0]} {body[1][:200]!r}")
        check(all(f",{chosen}," in l for l in lines[1:]), "CSV rows with another code")
        observed["csvRows"] = len(lines) - 1

        # Back to all codes for the kept screenshot: the whole picture.
        Select(driver.find_element(By.ID, "code")).select_by_value("")
        driver.find_element(By.CSS_SELECTOR, "form.filter button[type=submit]").click()
        wait.until(lambda d: "code=" + chosen not in d.current_url)
        time.sleep(1.0)  # one more live update on the card
        observed["uploadPageLater"] = row_numbers(driver.find_element(By.CSS_SELECTOR, f'section[data-upload="{args.upload}"]'))
        shot("status-page.png")

        # 5. Cancel another running upload with its page's button (after a confirm dialog).
        if args.cancel:
            driver.get(args.base + f"/uploads/{args.cancel}")
            cancel = driver.find_element(By.CSS_SELECTOR, 'button[data-action="cancel"]')
            retry = driver.find_element(By.CSS_SELECTOR, 'button[data-action="retry"]')
            check(cancel.is_displayed() and not retry.is_displayed(), "a running upload must offer Cancel, not Retry")
            cancel.click()
            WebDriverWait(driver, 5).until(lambda d: d.switch_to.alert).accept()
            status = WebDriverWait(driver, 10).until(
                lambda d: d.find_element(By.ID, "action-status").text if "requested" in d.find_element(By.ID, "action-status").text
                or d.find_element(By.ID, "action-error").text else None)
            check(not driver.find_element(By.ID, "action-error").text, f"cancel error: {driver.find_element(By.ID, 'action-error').text!r}")
            observed["cancelStatus"] = status
            shot("status-page-cancel.png")

        # 6. Retry the failed units of a finished upload: lands on the new upload's page.
        if args.retry:
            driver.get(args.base + f"/uploads/{args.retry}")
            cancel = driver.find_element(By.CSS_SELECTOR, 'button[data-action="cancel"]')
            retry = driver.find_element(By.CSS_SELECTOR, 'button[data-action="retry"]')
            check(retry.is_displayed() and not cancel.is_displayed(), "a finished upload with errors must offer Retry, not Cancel")
            retry.send_keys(Keys.ENTER)  # keyboard: a focused button activates on Enter
            wait.until(lambda d: "/uploads/" in d.current_url and not d.current_url.endswith(args.retry))
            new_id = driver.current_url.rstrip("/").rsplit("/", 1)[1]
            observed["retryId"] = new_id
            retry_of = driver.find_element(By.CSS_SELECTOR, f'a[href="/uploads/{args.retry}"]')
            check(retry_of is not None, "the retry's page does not link to the retried upload")
            shot("status-page-retry.png")
    except Exception as e:
        try:
            shot("status-page-failure.png")
        except Exception:
            pass
        if not isinstance(e, Failure):
            import traceback
            traceback.print_exc()
        print("FAIL: " + str(e), file=sys.stderr)
        print(json.dumps(observed))
        driver.quit()
        return 1
    driver.quit()
    print(json.dumps(observed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
