verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { held: bool = false, count: u32 = 0 }
        on input Go writes(count) {
            if *self.held {
                *self.count += 1;
            }
        }
    }
}
fn main() {}
