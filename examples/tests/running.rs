//! The runtime tests: real processes, real TCP sockets, real files, in one
//! test binary. They run apart from the checker tests so that timing-
//! sensitive deployments do not share the cores with exhaustive checks.
//! `cargo test -p verdict-examples --test running runtime_storage::` runs one file.

#![cfg(feature = "runtime")]

mod support;

#[path = "kv_redis.rs"]
mod kv_redis;
#[path = "runtime_choice.rs"]
mod runtime_choice;
#[path = "runtime_cli.rs"]
mod runtime_cli;
#[path = "runtime_counter.rs"]
mod runtime_counter;
#[path = "runtime_faults.rs"]
mod runtime_faults;
#[path = "runtime_floods.rs"]
mod runtime_floods;
#[path = "runtime_fuzz.rs"]
mod runtime_fuzz;
#[path = "runtime_lockserv.rs"]
mod runtime_lockserv;
#[path = "runtime_pingpong.rs"]
mod runtime_pingpong;
#[path = "runtime_refusals.rs"]
mod runtime_refusals;
#[path = "runtime_storage.rs"]
mod runtime_storage;
#[path = "runtime_units.rs"]
mod runtime_units;
#[path = "transform_runtime.rs"]
mod transform_runtime;
#[path = "upgrade_live.rs"]
mod upgrade_live;
