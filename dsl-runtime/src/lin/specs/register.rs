//! A single register with read, write and compare-and-set (Jepsen's etcd
//! test, or any single-value store).

use crate::lin::spec::Spec;
use serde::{Deserialize, Serialize};

/// An operation on a [`Register`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterOp {
    /// Read the value.
    Read,
    /// Set the value.
    Write(i64),
    /// Set the value to `to` if it is `from`.
    Cas {
        /// The value expected.
        from: i64,
        /// The value written when the expectation holds.
        to: i64,
    },
}

/// What an operation on a [`Register`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterRet {
    /// A read's result (`None`: never written).
    Value(Option<i64>),
    /// A write happened, or a compare-and-set found the expected value.
    Ok,
    /// A compare-and-set did not find the expected value and changed nothing.
    Fail,
}

/// A register that starts empty (reads return `None` until a write).
///
/// Results must match their operation: a read returns
/// [`RegisterRet::Value`], a write [`RegisterRet::Ok`], a compare-and-set
/// [`RegisterRet::Ok`] or [`RegisterRet::Fail`]; any other pairing is never
/// allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Register;

impl Spec for Register {
    type Op = RegisterOp;
    type Ret = RegisterRet;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        op: &RegisterOp,
        ret: Option<&RegisterRet>,
        next: &mut Vec<Option<i64>>,
    ) {
        match (op, ret) {
            (RegisterOp::Read, None) => next.push(*state),
            (RegisterOp::Read, Some(RegisterRet::Value(v))) if v == state => next.push(*state),
            (RegisterOp::Write(v), None | Some(RegisterRet::Ok)) => next.push(Some(*v)),
            (RegisterOp::Cas { from, to }, ret) => {
                let matches = *state == Some(*from);
                let after = if matches { Some(*to) } else { *state };
                let allowed = match ret {
                    None => true,
                    Some(RegisterRet::Ok) => matches,
                    Some(RegisterRet::Fail) => !matches,
                    Some(RegisterRet::Value(_)) => false,
                };
                if allowed {
                    next.push(after);
                }
            }
            _ => {}
        }
    }

    fn is_read_only(&self, op: &RegisterOp, ret: Option<&RegisterRet>) -> bool {
        match op {
            RegisterOp::Read => true,
            RegisterOp::Write(_) => false,
            RegisterOp::Cas { from, to } => from == to || ret == Some(&RegisterRet::Fail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(state: Option<i64>, op: RegisterOp, ret: Option<RegisterRet>) -> Vec<Option<i64>> {
        let mut next = Vec::new();
        Register.step(&state, &op, ret.as_ref(), &mut next);
        next
    }

    #[test]
    fn cas_succeeds_only_on_the_expected_value() {
        let cas = RegisterOp::Cas { from: 1, to: 2 };
        assert_eq!(after(Some(1), cas, Some(RegisterRet::Ok)), vec![Some(2)]);
        assert_eq!(after(Some(3), cas, Some(RegisterRet::Ok)), vec![]);
        assert_eq!(after(Some(3), cas, Some(RegisterRet::Fail)), vec![Some(3)]);
        assert_eq!(after(None, cas, Some(RegisterRet::Fail)), vec![None]);
        assert_eq!(after(Some(1), cas, None), vec![Some(2)]);
    }

    #[test]
    fn reads_see_the_state_and_mismatched_results_are_refused() {
        assert_eq!(
            after(None, RegisterOp::Read, Some(RegisterRet::Value(None))),
            vec![None]
        );
        assert_eq!(
            after(Some(1), RegisterOp::Read, Some(RegisterRet::Value(None))),
            vec![]
        );
        assert_eq!(after(Some(1), RegisterOp::Read, None), vec![Some(1)]);
        assert_eq!(
            after(None, RegisterOp::Write(4), Some(RegisterRet::Fail)),
            vec![]
        );
        assert_eq!(after(None, RegisterOp::Read, Some(RegisterRet::Ok)), vec![]);
    }
}
