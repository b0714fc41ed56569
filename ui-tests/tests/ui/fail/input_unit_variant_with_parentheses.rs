verdict::system! {
    system S;
    input enum Input { Go, Stop(u8) }
    role Client {
        on input Go() {}
        on input Stop(_) {}
    }
}
fn main() {}
