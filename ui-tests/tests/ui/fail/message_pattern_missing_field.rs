verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Write { key: u8, value: u64 } }
    role Client {
        on input Go sends(Write) {
            ctx.send(Node::Server, msg::Write { key: 1, value: 2 });
        }
    }
    role Server {
        on message Write { key } from _ {
            let _ = key;
        }
    }
}
fn main() {}
