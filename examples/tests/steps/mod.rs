//! Driving a model by hand to a world a test starts from: each step is
//! one the model enables, so the world is reachable.

use verdict::{Effects, Event, Model, System, World};

/// Takes the first step `model` enables in `world` whose event `pick`
/// accepts; `false` when there is none.
pub fn take<S: System>(
    model: &Model<S>,
    world: &mut World<S>,
    pick: impl Fn(&Event<S>) -> bool,
) -> bool {
    let Some(a) = model
        .enabled(world)
        .into_iter()
        .find(|&a| pick(&model.event(world, a)))
    else {
        return false;
    };
    let mut fx = Effects::default();
    model.apply(world, a, &mut fx).unwrap();
    true
}
