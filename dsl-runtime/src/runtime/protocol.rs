//! What clients and nodes say to each other, inside `Request` and `Reply`
//! frames. Peers only exchange the system's own messages.

use serde::{Deserialize, Serialize};

use crate::system::System;

/// A client's request to the node it is connected to.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Request<S: System> {
    /// Deliver an external input to the node. Answered by
    /// [`Reply::Accepted`] once the input is durable and its effects left.
    Input(S::Input),
    /// The node's counters, as text.
    Stats,
    /// The node's state, field by field.
    State,
    /// Cut the network: messages between these nodes and the rest are held
    /// until [`Request::Heal`]. Refused unless the node's fault model
    /// allows partitions.
    Partition(Vec<String>),
    /// Heal the partition and release the held messages.
    Heal,
}

/// A node's answer or output to a client.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Reply<S: System> {
    /// The handshake succeeded: the node's name.
    Welcome {
        /// The node's name, e.g. `Client(0)`.
        node: String,
    },
    /// An input was handled: it is durable, and so are its effects.
    Accepted {
        /// Its position in the node's log.
        seq: u64,
    },
    /// An output of the node (sent to every connected client).
    Output {
        /// Outputs numbered from 1 since the process started.
        n: u64,
        /// Whether this output was emitted before the client connected.
        earlier: bool,
        /// The output.
        output: S::Output,
    },
    /// The node's counters.
    Stats(String),
    /// Each state field as `(name, value)`.
    State(Vec<(String, String)>),
    /// A control request (partition, heal) took effect.
    Done(String),
    /// A request was refused, and why.
    Refused(String),
}
