// A system cannot borrow, and its parameters take no defaults.
verdict::system! {
    system Cache<'a, V: verdict::Data = u8>;
    role Server {
        state { hits: u64 = 0 }
    }
}
fn main() {}
