use verdict::prelude::*;

verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { picked: usize = 0 }
        on input Go writes(picked) chooses {
            *self.picked = pick(ctx);
        }
    }
}

/// A helper that chooses needs the permission as a bound.
fn pick<H>(ctx: &mut Ctx<'_, S, H>) -> usize {
    ctx.choose(2)
}

fn main() {}
