//! Systems that change: what an edit can affect before it is checked,
//! and a cache of verdicts keyed by what was checked.
//!
//! - [`describe`]: a system's footprint graph with stable hashes, as JSON
//!   (`describe --json`);
//! - [`impact`]: which invariants an edit between two descriptions can
//!   affect, by data flow over footprints (`impact --against OLD.json`);
//! - [`cache`]: `check --cache DIR`, verdicts keyed by the description,
//!   the flags and the tool version.
//!
//! The book's chapter "Changing a checked system" shows them at work.

pub mod cache;
pub mod describe;
pub mod impact;

pub use cache::CacheError;
pub use describe::{Description, DescriptionError};
pub use impact::{compare, Impact};
