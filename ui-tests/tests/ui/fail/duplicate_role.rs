verdict::system! {
    system S;
    role Client { state { held: bool = false } }
    role Client { state { count: u8 = 0 } }
}
fn main() {}
