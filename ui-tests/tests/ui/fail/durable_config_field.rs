verdict::system! {
    system S;
    config { #[durable] limit: u32 = 3 }
    role Client { state { held: bool = false } }
}
fn main() {}
