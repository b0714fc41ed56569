//! Liveness: `eventually` properties checked under weak fairness.

/// One `eventually` property as declared in `system!`.
#[derive(Debug)]
pub struct EventuallyMeta {
    /// Its name.
    pub name: &'static str,
}
