verdict::system! {
    system S;
    role Client { state { #[domain(3..3)] level: u8 = 0 } }
}
fn main() {}
