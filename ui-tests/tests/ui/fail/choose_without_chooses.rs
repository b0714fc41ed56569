verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { picked: usize = 0 }
        // Chooses, but the footprint does not say `chooses`.
        on input Go writes(picked) {
            *self.picked = ctx.choose(2);
        }
    }
}

fn main() {}
