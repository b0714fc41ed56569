//! Ready-made specifications.
//!
//! - [`Register`]: one value with read, write and compare-and-set.
//! - [`KvMap`]: string keys and values with get, put and append; keys start
//!   as `""`; partitioned by key.
//! - [`KvStore`]: get, put, delete, compare-and-set and compare-and-delete;
//!   keys start absent; partitioned by key.

mod kv_map;
mod kv_store;
mod register;

pub use kv_map::{KvMap, KvMapOp, KvMapRet, KvMapState};
pub use kv_store::{KvStore, KvStoreOp, KvStoreRet, KvStoreState};
pub use register::{Register, RegisterOp, RegisterRet};
