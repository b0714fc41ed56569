/// A type of another crate that does not implement `Relabel`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Opaque(u8);

#[derive(Clone, Debug, PartialEq, Eq, Hash, verdict::Relabel)]
pub struct Wrapper {
    pub inner: Opaque,
}

fn needs_relabel<T: verdict::Relabel<u8>>() {}

fn main() {
    needs_relabel::<Wrapper>();
}
