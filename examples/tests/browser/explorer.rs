//! The explorer (`lockserv explore`), driven by clicks in headless
//! Chromium: the duplicated-grant counterexample reproduced step by step,
//! the invariant turning red at its last step, the permalink, back and
//! forward; and the server's answers to bad requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::cdp::{artifacts, boxes, overlapping, Browser};

/// A running `lockserv explore`, killed when dropped.
struct Explorer {
    child: Child,
    url: String,
}

impl Explorer {
    /// Starts `lockserv explore ARGS --port 0` and reads the address it prints.
    fn start(args: &[&str]) -> Explorer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lockserv"))
            .arg("explore")
            .args(args)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lockserv starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line[at..].trim().to_string());
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("lockserv explore printed no address");
            }
        };
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Explorer { child, url }
    }

    /// `host:port`.
    fn addr(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shortest counterexample `check` finds, as its trace file's events.
fn counterexample_events(args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("cx.json");
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .arg("check")
        .args(args)
        // One thread: which of the equally short counterexamples is found
        // first must not depend on how two threads raced.
        .args(["--threads", "1"])
        .arg("--trace-json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "check finds the violation");
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    trace["events"].as_array().unwrap().clone()
}

/// Waits until the page shows step `n` and is not loading.
fn wait_for_step(b: &mut Browser, n: usize) {
    b.wait_for(
        &format!("document.body.dataset.loading === '0' && document.body.dataset.step === '{n}'"),
        &format!("step {n} to be shown"),
    );
}

/// The `data-index` of the enabled event whose `data-event` is `event`.
fn button_for(b: &mut Browser, event: &Value) -> usize {
    let buttons = b.eval(
        "[...document.querySelectorAll('#events button.event')].map(e => [e.dataset.index, e.dataset.event])",
    );
    for pair in buttons.as_array().unwrap() {
        let shown: Value = serde_json::from_str(pair[1].as_str().unwrap()).unwrap();
        if &shown == event {
            return pair[0].as_str().unwrap().parse().unwrap();
        }
    }
    panic!("no enabled event is {event}; the page offers {buttons}");
}

fn violated(b: &mut Browser) -> Vec<String> {
    let v = b.eval("[...document.querySelectorAll('#invariants .invariant.violated')].map(e => e.dataset.name)");
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_duplicated_grant_is_reproduced_by_clicks_and_turns_the_invariant_red() {
    let Some(mut b) = Browser::launch() else {
        return;
    };
    let dir = artifacts("explorer");
    let model = ["--clients", "3", "--faults", "dup"];
    let events = counterexample_events(&model);
    assert_eq!(events.len(), 10, "the shortest counterexample has 10 steps");
    let explorer = Explorer::start(&model);
    b.goto(&explorer.url);
    wait_for_step(&mut b, 0);

    // What the page holds at the start.
    assert_eq!(
        b.eval("document.querySelector('#system').textContent"),
        json!("LockServ")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#nodes .node').length"),
        json!(4)
    );
    assert_eq!(
        b.eval("[...document.querySelectorAll('#invariants .invariant')].map(e => e.dataset.name)"),
        json!(["mutual_exclusion", "locked_outputs_alternate"])
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#events button.event').length"),
        json!(3),
        "each client may lock"
    );
    assert!(violated(&mut b).is_empty());
    b.screenshot(&dir.join("step-00.png"));

    let mut deliveries = 0;
    let mut server_took_one = false;
    for (k, event) in events.iter().enumerate() {
        let n = k + 1;
        let index = button_for(&mut b, event);
        b.click(&format!("#events button.event[data-index='{index}']"));
        wait_for_step(&mut b, n);
        if event.get("Deliver").is_some() {
            deliveries += 1;
        }
        let red = violated(&mut b);
        if n < events.len() {
            assert!(red.is_empty(), "step {n}: {red:?} already red");
        } else {
            // Two clients hold the lock; seen from outside, Client(0) is
            // told Locked while Client(1), told Locked again by the stale
            // grant, has not unlocked: the trace invariant fails too.
            assert_eq!(
                red,
                ["mutual_exclusion", "locked_outputs_alternate"],
                "step {n}"
            );
        }
        // The chart grows with the path: one arrowhead per delivery.
        assert_eq!(
            b.eval("document.querySelectorAll('#chart svg line[marker-end]').length"),
            json!(deliveries),
            "step {n}"
        );
        assert_eq!(
            b.eval("document.querySelectorAll('#steps li').length"),
            json!(n + 1),
            "the path lists the initial world and every step"
        );
        let to_server = event
            .get("Deliver")
            .is_some_and(|d| d["dst"] == json!("Server"));
        if to_server && !server_took_one {
            server_took_one = true;
            // The server took its first request, a Lock: its queue changed.
            assert_eq!(
                b.eval("document.querySelector(\"#nodes .node[data-node='Server'] tr.changed\").dataset.field"),
                json!("queue")
            );
        }
        if n == 5 {
            b.screenshot(&dir.join("step-05.png"));
        }
    }
    assert!(server_took_one, "the counterexample delivers to the server");
    b.screenshot(&dir.join("step-10.png"));
    // Red on the page, not just a class name.
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector(\"#invariants .invariant[data-name='mutual_exclusion']\")).backgroundColor"),
        json!("rgb(204, 0, 0)")
    );
    assert!(b
        .eval("document.querySelector('#status').textContent")
        .as_str()
        .unwrap()
        .starts_with("VIOLATED at step 10"));
    // Only the fault the model allows is listed, with its budget.
    let faults = b.eval("document.querySelector('#faults-used').textContent");
    let faults = faults.as_str().unwrap();
    assert!(
        faults.starts_with("duplicate: ") && !faults.contains("drop"),
        "{faults}"
    );
    let labels = boxes(&mut b, "#chart svg text.label");
    let clashes = overlapping(&labels);
    assert!(clashes.is_empty(), "chart labels overlap: {clashes:#?}");

    // Back and forward, two steps each way.
    let end = b.eval("location.hash");
    b.click("#back");
    wait_for_step(&mut b, 9);
    assert!(violated(&mut b).is_empty());
    b.click("#back");
    wait_for_step(&mut b, 8);
    b.click("#forward");
    wait_for_step(&mut b, 9);
    b.click("#forward");
    wait_for_step(&mut b, 10);
    assert_eq!(b.eval("location.hash"), end);
    assert_eq!(
        b.eval("document.querySelector('#forward').disabled"),
        json!(true)
    );
    assert!(violated(&mut b).contains(&"mutual_exclusion".to_string()));

    // The permalink reopens the same world in a fresh page.
    let link = b.eval("document.querySelector('#permalink').href");
    let link = link.as_str().unwrap().to_string();
    assert!(link.contains("#path="), "{link}");
    b.goto("about:blank");
    b.goto(&link);
    wait_for_step(&mut b, 10);
    assert!(violated(&mut b).contains(&"mutual_exclusion".to_string()));
}

/// One HTTP request to the explorer: `(status, body)`.
fn request(addr: &str, method: &str, target: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let explorer = Explorer::start(&["--clients", "2"]);
    let addr = explorer.addr().to_string();
    let error = |body: &str| -> String {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        v["error"].as_str().unwrap().to_string()
    };
    let (status, body) = request(&addr, "GET", "/api/state?path=0.99", "");
    assert_eq!(status, 400);
    assert!(
        error(&body).contains("step 2: event #99 does not exist"),
        "{body}"
    );
    let (status, body) = request(&addr, "GET", "/api/state?path=0.x", "");
    assert_eq!(status, 400);
    assert!(error(&body).contains("`x`"), "{body}");
    let (status, body) = request(&addr, "GET", "/nope", "");
    assert_eq!(status, 404);
    assert!(error(&body).contains("/nope"), "{body}");
    let (status, _) = request(&addr, "POST", "/api/state", "");
    assert_eq!(status, 405);
    let (status, body) = request(&addr, "POST", "/api/trace", "{not json");
    assert_eq!(status, 400);
    assert!(
        error(&body).contains("not a trace of this system"),
        "{body}"
    );
    let (status, body) = request(&addr, "POST", "/api/check?max_states=-3", "");
    assert_eq!(status, 400);
    assert!(error(&body).contains("max_states"), "{body}");
    // Still serving, and the assets are the binary's own.
    let (status, body) = request(&addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(
        body.contains("explorer.js") && !body.contains("http"),
        "{body}"
    );
    let (status, body) = request(&addr, "GET", "/api/state?path=", "");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["step"], json!(0));
    assert_eq!(v["enabled"].as_array().unwrap().len(), 2);
}

/// Sends `head` (no end of head unless it has one) and then, unless the
/// server has closed, up to `more` bytes of filler; the answer's first line.
fn answer_to_head(addr: &str, head: &[u8], more: usize) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head).unwrap();
    let filler = vec![b'a'; 64 << 10];
    let mut sent = 0;
    // The server stops reading at its bound: writes then fail, or block
    // once the socket buffers are full (the timeout ends them).
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    while sent < more && s.write_all(&filler).is_ok() {
        sent += filler.len();
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().unwrap_or("").to_string()
}

#[test]
fn oversized_request_heads_are_refused_before_tiny_http_reads_them() {
    let explorer = Explorer::start(&["--clients", "2"]);
    let addr = explorer.addr().to_string();
    // One header line that never ends: 64 MiB offered, refused at 8 KiB
    // (tiny_http itself would buffer the whole line).
    let first = answer_to_head(&addr, b"GET / HTTP/1.1\r\nX-Huge: ", 64 << 20);
    assert_eq!(first, "HTTP/1.1 431 Request Header Fields Too Large");
    // Too many header lines.
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        many.extend(format!("X-{i}: 1\r\n").bytes());
    }
    many.extend(b"\r\n");
    let first = answer_to_head(&addr, &many, 0);
    assert_eq!(first, "HTTP/1.1 431 Request Header Fields Too Large");
    // A request line that never ends.
    let first = answer_to_head(&addr, b"GET /", 1 << 20);
    assert_eq!(first, "HTTP/1.1 431 Request Header Fields Too Large");
    // Still serving, a keep-alive request as well as a closing one.
    let (status, body) = request(&addr, "GET", "/api/state?path=", "");
    assert_eq!(status, 200, "{body}");
    let first = answer_to_head(
        &addr,
        b"GET /api/state?path= HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
        0,
    );
    assert_eq!(first, "HTTP/1.1 200 OK");
}

#[test]
fn check_from_here_jumps_to_the_counterexample_and_a_saved_trace_opens_at_its_end() {
    let Some(mut b) = Browser::launch() else {
        return;
    };
    let dir = artifacts("explorer");
    let explorer = Explorer::start(&["--clients", "3", "--faults", "dup"]);
    b.goto(&explorer.url);
    wait_for_step(&mut b, 0);
    // From the initial world the checker, breadth first, finds the shortest
    // violation, and the page walks there.
    b.click("#run-check");
    b.wait_for(
        "document.querySelector('#job').dataset.verdict === 'violation'",
        "the check from here to report its violation",
    );
    wait_for_step(&mut b, 10);
    assert!(violated(&mut b).contains(&"mutual_exclusion".to_string()));
    assert!(b
        .eval("document.querySelector('#job').textContent")
        .as_str()
        .unwrap()
        .contains("VIOLATION"));
    b.screenshot(&dir.join("check-from-here.png"));
    // Back walks along the counterexample, one step at a time.
    b.click("#back");
    wait_for_step(&mut b, 9);
    assert!(violated(&mut b).is_empty());
    drop(explorer);

    // A trace saved by `check --trace-json`, opened at start-up, shows its
    // last world with the whole path behind it.
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("cx.json");
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(["check", "--clients", "3", "--faults", "dup", "--trace-json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let explorer = Explorer::start(&["--clients", "3", "--trace", json.to_str().unwrap()]);
    assert!(explorer.url.contains("#path="), "{}", explorer.url);
    b.goto(&explorer.url);
    wait_for_step(&mut b, 10);
    assert!(violated(&mut b).contains(&"mutual_exclusion".to_string()));
    assert_eq!(
        b.eval("document.querySelectorAll('#steps li').length"),
        json!(11)
    );
}

/// `lockserv explore ARGS`, run to its end: `(exit code, stderr)`.
fn explore_fails(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .arg("explore")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_taken_port_or_a_bad_trace_is_a_start_up_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, err) = explore_fails(&["--port", &port]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")) && err.contains("--port"),
        "{err}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let (code, err) = explore_fails(&["--trace", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad.json"), "{err}");
    let missing = tmp.path().join("missing.json");
    let (code, err) = explore_fails(&["--trace", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    drop(taken);
}
