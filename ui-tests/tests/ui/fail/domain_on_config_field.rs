verdict::system! {
    system S;
    config { #[domain(1..=3)] limit: u32 = 3 }
    role Client { state { held: bool = false } }
}
fn main() {}
