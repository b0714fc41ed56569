use verdict::prelude::*;

verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello }
    role Client {
        on input Go sends(Hello) {
            greet(ctx);
        }
    }
    role Server {
        on message Hello from _ {}
    }
}

/// A helper shared by handlers: it sends, so it needs the permission as a bound.
fn greet<H>(ctx: &mut Ctx<'_, S, H>) {
    ctx.send(Node::Server, msg::Hello);
}

fn main() {}
