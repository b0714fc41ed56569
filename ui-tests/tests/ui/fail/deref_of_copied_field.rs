// A field a handler or invariant only reads, of a scalar type, is a copy in
// its view: `*self.count` is a mistake the macro names.
verdict::system! {
    system S;
    input enum Input { Go }
    output enum Output { Big }
    role Client {
        state { count: u64 = 0, last: Option<Node> = None }
        on input Go reads(count, last) emits(Big) {
            if *self.count > 3 && self.last.is_none() {
                ctx.output(output::Big);
            }
        }
        invariant small reads(count) { *self.count < 10 }
    }
}
fn main() {}
