verdict::system! {
    system S;
    role Client {
        state { held: bool, count: u32 = 0 }
    }
}
fn main() {}
