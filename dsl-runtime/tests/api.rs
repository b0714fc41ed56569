//! Tests of the `verdict` crate through its public API, in one test binary:
//! the layering rules, the linearizability checker and its command, and the
//! transformers on small systems. Each file is a module named as before.

#[path = "layers.rs"]
mod layers;
#[path = "lin_cli.rs"]
mod lin_cli;
#[path = "lin_corpus.rs"]
mod lin_corpus;
#[path = "lin_explain.rs"]
mod lin_explain;
#[path = "lin_props.rs"]
mod lin_props;
#[path = "network_trials.rs"]
mod network_trials;
#[path = "transform_layers.rs"]
mod transform_layers;
