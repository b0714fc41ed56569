//! The `explore` subcommand: a local web page to walk a model state by
//! state, over the very model `check` explores (same sizes, faults,
//! workload and transform; the same step function).
//!
//! The page shows the current world — every node's fields, the changed
//! ones highlighted, the messages in flight, armed timers, the trace — the
//! path so far as a message sequence chart, the invariants (red when
//! violated), and every enabled event as a button with a preview of what
//! it would change. The path lives in the page's address
//! (`#path=3.0.12`, one event number per step), so a link reopens the same
//! world. From any world the page can run the checker or the simulator and
//! jump to the counterexample found, and it opens a trace saved by
//! `check --trace-json`.
//!
//! The server listens on 127.0.0.1 only. Its assets are compiled into the
//! binary (no network access needed). It answers requests one at a time;
//! a request head is bounded by the [`guard`] in front of `tiny_http`, a
//! path is at most [`walk::MAX_PATH`] steps, a request body at most
//! [`MAX_BODY`] bytes, and one check or simulation runs at a time, within
//! bounds.

mod guard;
mod jobs;
mod walk;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::faults::Faults;
use crate::semantics::Model;
use crate::system::System;

use super::EXIT_OK;
use jobs::{Jobs, Request as JobRequest};
use walk::{parse_path, path_of, Walk};

/// The largest request body read: a trace file uploaded by the page.
pub const MAX_BODY: usize = 8 << 20;

/// Flags of the `explore` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct ExploreArgs {
    /// Fault model, as for `check` (default: the trace's, with --trace, else none).
    #[arg(long, value_name = "LIST")]
    pub faults: Option<Faults>,
    /// The port to listen on at 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub port: u16,
    /// Open this trace (written by `check --trace-json`) first.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

const INDEX_HTML: &str = include_str!("assets/index.html");
const EXPLORER_JS: &str = include_str!("assets/explorer.js");
const EXPLORER_CSS: &str = include_str!("assets/explorer.css");

/// The fault model an explorer runs under: `--faults`, else the trace's.
pub fn explore_faults(args: &ExploreArgs) -> Result<Faults, String> {
    match (&args.faults, &args.trace) {
        (Some(f), _) => Ok(*f),
        (None, Some(path)) => super::check::trace_faults(path),
        (None, None) => Ok(Faults::none()),
    }
}

/// Runs `explore`: serves the page until the process is stopped. Exit 2 if
/// the port cannot be had or the trace cannot be opened.
pub fn run_explore<S: System>(program: &str, model: &Model<S>, args: &ExploreArgs) -> ExitCode {
    let start_path = match &args.trace {
        None => Vec::new(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| trace_path(model, &text))
        {
            Ok(p) => p,
            Err(e) => return super::app::usage(format!("{}: {e}", path.display())),
        },
    };
    let public = match std::net::TcpListener::bind(("127.0.0.1", args.port)) {
        Ok(l) => l,
        Err(e) => {
            return super::app::usage(format!(
                "cannot listen on 127.0.0.1:{}: {e} (choose another --port, or 0 for any free one)",
                args.port
            ))
        }
    };
    // tiny_http listens on a private port behind the guard, which bounds
    // request heads before tiny_http reads them.
    let server = match Server::http(("127.0.0.1", 0)) {
        Ok(s) => s,
        Err(e) => return super::app::usage(format!("cannot listen on 127.0.0.1: {e}")),
    };
    let (Ok(addr), Some(inner)) = (public.local_addr(), server.server_addr().to_ip()) else {
        return super::app::usage("the server has no IP address");
    };
    if let Err(e) = std::thread::Builder::new()
        .name("explore-guard".into())
        .spawn(move || guard::serve(public, inner))
    {
        return super::app::usage(format!("cannot start the server: {e}"));
    }
    let mut url = format!("http://{addr}/");
    if !start_path.is_empty() {
        url.push_str(&format!("#path={}", join_path(&start_path)));
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Exploring {} with nodes {} under faults: {}",
        S::meta().name,
        model.setup.describe(),
        model.faults
    );
    let _ = writeln!(out, "  open {url}");
    let _ = writeln!(out, "  (listening on 127.0.0.1 only; stop with Ctrl-C)");
    let _ = out.flush();
    drop(out);
    let jobs = Jobs::default();
    std::thread::scope(|scope| {
        for request in server.incoming_requests() {
            let explorer = Explorer {
                program,
                model,
                jobs: &jobs,
            };
            if let Some(job) = explorer.handle(request) {
                let jobs = &jobs;
                scope.spawn(move || jobs.run(model, &job.0, job.1));
            }
        }
    });
    ExitCode::from(EXIT_OK)
}

/// `3.0.12` for the path `[3, 0, 12]`.
fn join_path(path: &[usize]) -> String {
    path.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// The path that replays a trace file's events, after checking it is a
/// trace of this system.
fn trace_path<S: System>(model: &Model<S>, text: &str) -> Result<Vec<usize>, String> {
    let file: super::check::TraceFile<S> = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a trace of this system (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    if file.system != S::meta().name {
        return Err(format!(
            "a trace of `{}`, not of `{}`",
            file.system,
            S::meta().name
        ));
    }
    let faults = model.faults.to_string();
    if file.faults != faults {
        return Err(format!(
            "recorded under faults `{}`, but this explorer runs under `{faults}`; start it with \
             `--faults {}` (or without --faults and with --trace FILE)",
            file.faults, file.faults
        ));
    }
    path_of(model, None, &file.events)
}

/// An answer: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Answer { status: 200, body }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Answer {
            status,
            body: json!({"error": message.into()}),
        }
    }
}

/// A job to start once the request is answered: the walk and what to run.
type Job<S> = (Walk<S>, JobRequest);

/// One request's view of the explorer.
struct Explorer<'a, S: System> {
    program: &'a str,
    model: &'a Model<S>,
    jobs: &'a Jobs,
}

impl<S: System> Explorer<'_, S> {
    /// Answers one request; returns a job to start, if it asked for one.
    fn handle(&self, mut request: Request) -> Option<Job<S>> {
        let url = request.url().to_string();
        let (route, query) = url.split_once('?').unwrap_or((&url, ""));
        let method = request.method().clone();
        let static_asset = match (&method, route) {
            (Method::Get, "/") | (Method::Get, "/index.html") => {
                Some((INDEX_HTML, "text/html; charset=utf-8"))
            }
            (Method::Get, "/explorer.js") => Some((EXPLORER_JS, "text/javascript; charset=utf-8")),
            (Method::Get, "/explorer.css") => Some((EXPLORER_CSS, "text/css; charset=utf-8")),
            _ => None,
        };
        if let Some((body, kind)) = static_asset {
            let response = Response::from_string(body).with_header(header("Content-Type", kind));
            let _ = request.respond(response);
            return None;
        }
        let mut job = None;
        let answer = match (&method, route) {
            (Method::Get, "/api/about") => Answer::ok(walk::about(self.model, self.program)),
            (Method::Get, "/api/state") => self.state(query),
            (Method::Post, "/api/trace") => match read_body(&mut request) {
                Ok(text) => match trace_path(self.model, &text) {
                    Ok(path) => Answer::ok(json!({"path": path})),
                    Err(e) => Answer::error(400, format!("this trace cannot be opened: {e}")),
                },
                Err(a) => a,
            },
            (Method::Post, "/api/check") | (Method::Post, "/api/simulate") => {
                match self.start_job(route, query) {
                    Ok(j) => {
                        job = Some(j);
                        Answer::ok(self.jobs.status())
                    }
                    Err(a) => a,
                }
            }
            (Method::Get, "/api/job") => Answer::ok(self.jobs.status()),
            (Method::Post, "/api/job/stop") => {
                self.jobs.stop();
                Answer::ok(self.jobs.status())
            }
            (
                _,
                "/" | "/index.html" | "/explorer.js" | "/explorer.css" | "/api/about"
                | "/api/state" | "/api/job",
            ) => Answer::error(405, format!("{route} answers GET only")),
            (_, "/api/trace" | "/api/check" | "/api/simulate" | "/api/job/stop") => {
                Answer::error(405, format!("{route} answers POST only"))
            }
            _ => Answer::error(404, format!("no such page: {route}")),
        };
        let response = Response::from_string(answer.body.to_string())
            .with_status_code(answer.status)
            .with_header(header("Content-Type", "application/json"))
            .with_header(header("Cache-Control", "no-store"));
        let _ = request.respond(response);
        job
    }

    /// The walk a query's `path=` names.
    fn walk(&self, query: &str) -> Result<Walk<S>, Answer> {
        let path = param(query, "path").unwrap_or_default();
        let path = parse_path(&path).map_err(|e| Answer::error(400, e))?;
        Walk::replay(self.model, &path).map_err(|e| Answer::error(400, e))
    }

    fn state(&self, query: &str) -> Answer {
        match self.walk(query) {
            Ok(walk) => Answer::ok(walk::view(self.model, &walk)),
            Err(a) => a,
        }
    }

    fn start_job(&self, route: &str, query: &str) -> Result<Job<S>, Answer> {
        let walk = self.walk(query)?;
        let request = if route == "/api/check" {
            let depth = number::<usize>(query, "depth", None, usize::MAX)?;
            let max_states = number::<u64>(
                query,
                "max_states",
                Some(jobs::DEFAULT_MAX_STATES),
                jobs::MAX_MAX_STATES,
            )?
            .unwrap_or(jobs::DEFAULT_MAX_STATES);
            JobRequest::Check { depth, max_states }
        } else {
            let seed = number::<u64>(query, "seed", Some(0), u64::MAX)?.unwrap_or(0);
            let runs = number::<u64>(query, "runs", Some(1000), jobs::MAX_RUNS)?.unwrap_or(1000);
            let depth =
                number::<usize>(query, "depth", Some(100), jobs::MAX_SIM_DEPTH)?.unwrap_or(100);
            JobRequest::Simulate { seed, runs, depth }
        };
        let kind = if route == "/api/check" {
            "check"
        } else {
            "simulate"
        };
        if !self.jobs.claim(kind, walk.steps.len()) {
            return Err(Answer::error(
                409,
                "a check or simulation is already running; wait for it (or stop it) first",
            ));
        }
        Ok((walk, request))
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// Reads a request body of at most [`MAX_BODY`] bytes as UTF-8.
fn read_body(request: &mut Request) -> Result<String, Answer> {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Answer::error(
            413,
            format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut bytes);
    if let Err(e) = read {
        return Err(Answer::error(400, format!("cannot read the body: {e}")));
    }
    if bytes.len() > MAX_BODY {
        return Err(Answer::error(
            413,
            format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    String::from_utf8(bytes).map_err(|_| Answer::error(400, "the body is not UTF-8 text"))
}

/// The value of `name=` in a query string, percent-decoded.
fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` escapes and `+`; invalid escapes are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A numeric query parameter: `default` when absent (or empty), an error
/// naming it when it is not a number or is above `max`.
fn number<T>(query: &str, name: &str, default: Option<T>, max: T) -> Result<Option<T>, Answer>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match param(query, name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<T>() {
            Ok(n) if n <= max => Ok(Some(n)),
            Ok(_) => Err(Answer::error(400, format!("{name}: at most {max}"))),
            Err(_) => Err(Answer::error(
                400,
                format!("{name}: `{v}` is not a whole number"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{param, percent_decode};

    #[test]
    fn query_parameters_are_found_and_decoded() {
        assert_eq!(param("path=1.2&x=3", "path").as_deref(), Some("1.2"));
        assert_eq!(param("path=1.2&x=3", "x").as_deref(), Some("3"));
        assert_eq!(param("path=1.2", "y"), None);
        assert_eq!(percent_decode("a%2Eb+c"), "a.b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
