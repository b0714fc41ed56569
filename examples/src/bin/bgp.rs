//! `bgp`: path-vector routing under policy, and the policies that never
//! settle.
//!
//! ```text
//! bgp check --instance good-gadget --liveness      # exits 0: every fair run converges
//! bgp check --instance bad-gadget --liveness       # exits 1: the oscillation, as a lasso
//! bgp check --instance disagree --liveness         # two stable states; see the book
//! bgp check --instance gao-rexford-5 --liveness    # exits 0
//! bgp check --instance gao-rexford-violator --liveness   # exits 1
//! bgp check --instance my-topology.txt             # an instance file of your own
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::bgp::{instance, workload, Bgp, Config, Policy, Role, INSTANCES};

const INSTANCE: Flag<Option<String>> = Flag::string(
    "instance",
    Some("good-gadget"),
    "The policy instance: good-gadget, bad-gadget, disagree, gao-rexford-violator, \
     gao-rexford-2 .. gao-rexford-9, or the path of an instance file",
);
const FLAP: Flag<bool> = Flag::bool(
    "flap",
    "The origin withdraws the destination once and announces it again",
);

/// The value of `--instance` in `args`, if given.
fn instance_arg(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--instance" {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix("--instance=") {
            return Some(v.to_string());
        }
    }
    None
}

/// The named instance, or the instance file at that path.
fn load(name: &str) -> Result<Policy, String> {
    if let Some(builtin) = instance(name) {
        return builtin;
    }
    let text = std::fs::read_to_string(name).map_err(|e| {
        format!("--instance {name}: not an instance name ({INSTANCES}) nor a readable file: {e}")
    })?;
    Policy::parse(name, &text)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let name = instance_arg(&args).unwrap_or_else(|| "good-gadget".to_string());
    let policy = match load(&name) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let routers = policy.routers();
    let summary = policy.clone();
    App::<Bgp>::new("bgp")
        .about("Path-vector (BGP) routing under per-router policy, checked with Verdict")
        .fixed_size(Role::Router, routers)
        .config_flag(INSTANCE)
        .flag(FLAP)
        .config(move |_| Config {
            policy: policy.clone(),
        })
        .workload(|setup, flags| workload(setup, flags.get(FLAP)))
        .on_check(move |_, _| {
            println!(
                "Instance {}: {} routers, router 0 originates",
                summary.name,
                summary.routers()
            );
            if !summary.relations.iter().all(|r| r.is_empty()) {
                let breaks = summary.gao_rexford_violations();
                if breaks.is_empty() {
                    println!("  Gao-Rexford conditions hold: convergence is guaranteed");
                } else {
                    println!(
                        "  breaks the Gao-Rexford preference rule: {}",
                        breaks.join("; ")
                    );
                }
            }
            None
        })
        .run()
}
