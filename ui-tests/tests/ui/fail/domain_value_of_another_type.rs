verdict::system! {
    system S;
    role Client { state { #[domain(Some(1), None, true)] last: Option<u8> = None } }
}
fn main() {}
