// A type parameter held in state must be data; `Clone` alone is not enough.
verdict::system! {
    system Bag<T: Clone>;
    input enum Input { Add(T) }
    role Holder {
        state { items: Vec<T> = Vec::new() }
        on input Add(item) writes(items) {
            self.items.push(item);
        }
    }
}
fn main() {}
