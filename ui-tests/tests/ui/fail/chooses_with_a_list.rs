verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { picked: usize = 0 }
        on input Go writes(picked) chooses(picked) {
            *self.picked = ctx.choose(2);
        }
    }
}

fn main() {}
