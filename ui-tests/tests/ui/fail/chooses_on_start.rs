verdict::system! {
    system S;
    role Client {
        state { picked: usize = 0 }
        on start writes(picked) chooses {
            *self.picked = ctx.choose(2);
        }
    }
}

fn main() {}
