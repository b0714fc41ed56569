//! Client sessions of a replicated state machine: per client, the number
//! of its last applied request and that request's output, so a request
//! that reaches the replicas twice (resent, or logged twice) takes effect
//! once and is answered with its first output. Primary-backup and Raft
//! replicate them alongside the state machine.

/// Per client, its last applied request and that request's output, sorted
/// by client.
pub type Sessions<N, O> = Vec<(N, u32, O)>;

/// The last applied request of `client` in `sessions`, if any.
pub fn session<N: Ord, O>(sessions: &Sessions<N, O>, client: N) -> Option<(u32, &O)> {
    sessions
        .binary_search_by(|(c, _, _)| c.cmp(&client))
        .ok()
        .map(|i| (sessions[i].1, &sessions[i].2))
}

/// Records that `client`'s request `id` was applied with `output`.
pub fn record<N: Ord, O>(sessions: &mut Sessions<N, O>, client: N, id: u32, output: O) {
    match sessions.binary_search_by(|(c, _, _)| c.cmp(&client)) {
        Ok(i) => sessions[i] = (client, id, output),
        Err(i) => sessions.insert(i, (client, id, output)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_request_of_each_client_is_kept_in_client_order() {
        let mut s: Sessions<u8, &str> = Vec::new();
        record(&mut s, 3, 1, "a");
        record(&mut s, 1, 1, "b");
        record(&mut s, 3, 2, "c");
        assert_eq!(s, vec![(1, 1, "b"), (3, 2, "c")]);
        assert_eq!(session(&s, 3), Some((2, &"c")));
        assert_eq!(session(&s, 2), None);
    }
}
