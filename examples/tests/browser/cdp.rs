//! Headless Chromium driven over the Chrome DevTools protocol: start it,
//! load a page, run JavaScript, click, take screenshots.
//!
//! A test that cannot start Chromium skips with a message, unless
//! `VERDICT_REQUIRE_BROWSER=1` (set by CI), where it fails instead.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

/// Generous: CI boxes are small and busy.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running headless Chromium with one page.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// The Chromium binary: `$VERDICT_CHROMIUM`, else the first of the usual
/// names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VERDICT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

impl Browser {
    /// Starts Chromium, or says why it cannot: `None` after printing the
    /// reason (the caller skips), or a panic when CI requires a browser.
    pub fn launch() -> Option<Browser> {
        match Self::try_launch() {
            Ok(b) => Some(b),
            Err(why) => {
                if std::env::var("VERDICT_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("headless Chromium is required here (VERDICT_REQUIRE_BROWSER=1) but cannot run: {why}");
                }
                eprintln!("skipping browser test: {why} (install Debian's `chromium`, or set VERDICT_CHROMIUM)");
                None
            }
        }
    }

    fn try_launch() -> Result<Browser, String> {
        let exe = chromium().ok_or("no Chromium binary found on PATH")?;
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--window-size=1400,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        // Chromium prints its DevTools address on stderr; keep draining
        // stderr afterwards so it never blocks on a full pipe.
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line[at..].trim().to_string());
                    }
                }
            }
        });
        let url = match rx.recv_timeout(PATIENCE) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} printed no DevTools address within {PATIENCE:?}",
                    exe.display()
                ));
            }
        };
        let (ws, _) = tungstenite::connect(url.as_str()).map_err(|e| e.to_string())?;
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(PATIENCE))
                .map_err(|e| e.to_string())?;
        }
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or("no target id")?
            .to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )?;
        b.session = attached["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_string();
        b.call("Page.enable", json!({}))?;
        b.call("Runtime.enable", json!({}))?;
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(b)
    }

    /// Sends one command (to the page, once attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("{method}: {e}"))?;
        loop {
            let m = self.ws.read().map_err(|e| format!("{method}: {e}"))?;
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
            if v["id"] != json!(id) {
                continue; // an event, or another command's answer
            }
            if let Some(err) = v.get("error") {
                return Err(format!("{method}: {err}"));
            }
            return Ok(v["result"].clone());
        }
    }

    /// Loads `url` and waits until the document is complete.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}))
            .unwrap_or_else(|e| panic!("{e}"));
        self.wait_for("document.readyState === 'complete'", "the page to load");
    }

    /// Evaluates a JavaScript expression (awaiting a promise) and returns
    /// its value; panics with the page's exception if it throws.
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("JavaScript threw: {ex}\nin: {js}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `js` evaluates to true; panics after a while, naming `what`.
    pub fn wait_for(&mut self, js: &str, what: &str) {
        let start = Instant::now();
        loop {
            if self.eval(&format!("!!({js})")) == json!(true) {
                return;
            }
            if start.elapsed() > PATIENCE {
                let body = self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''");
                panic!("timed out waiting for {what} ({js}); page text: {body}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the middle of the first element matching `selector` with the
    /// mouse, as a user would (it is scrolled into view first).
    #[allow(dead_code)] // the explorer test uses it
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let r = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        let (Some(x), Some(y)) = (r[0].as_f64(), r[1].as_f64()) else {
            panic!("nothing to click matches {selector}");
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Saves a PNG of the whole page to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let data = shot["data"].as_str().expect("screenshot data");
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("a base64 screenshot");
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a test keeps its screenshots and pages: under cargo's temporary
/// directory for integration tests, kept after the run for a look.
pub fn artifacts(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// JavaScript that returns, for every element matching `selector`, its box
/// in the page and its text: `[{x0, y0, x1, y1, text}]`.
pub fn boxes_js(selector: &str) -> String {
    let sel = serde_json::to_string(selector).unwrap();
    format!(
        "[...document.querySelectorAll({sel})].map(e => {{ const r = e.getBoundingClientRect(); \
         return {{x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, text: e.textContent}}; }})"
    )
}

/// A box measured in the page.
#[derive(Debug, Clone)]
pub struct Box2 {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
    pub text: String,
}

impl Box2 {
    /// Whether the boxes share more than a hair (half a pixel each way).
    pub fn overlaps(&self, o: &Box2) -> bool {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        w > 0.5 && h > 0.5
    }

    /// Whether this box lies inside `o` (to half a pixel).
    pub fn inside(&self, o: &Box2) -> bool {
        self.x0 >= o.x0 - 0.5
            && self.x1 <= o.x1 + 0.5
            && self.y0 >= o.y0 - 0.5
            && self.y1 <= o.y1 + 0.5
    }
}

/// The boxes of every element matching `selector`.
pub fn boxes(b: &mut Browser, selector: &str) -> Vec<Box2> {
    let v = b.eval(&boxes_js(selector));
    v.as_array()
        .expect("an array of boxes")
        .iter()
        .map(|r| Box2 {
            x0: r["x0"].as_f64().unwrap(),
            y0: r["y0"].as_f64().unwrap(),
            x1: r["x1"].as_f64().unwrap(),
            y1: r["y1"].as_f64().unwrap(),
            text: r["text"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Every pair of boxes that overlap, described.
pub fn overlapping(boxes: &[Box2]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            if a.overlaps(b) {
                out.push(format!("{:?} over {:?} ({a:?} / {b:?})", a.text, b.text));
            }
        }
    }
    out
}
