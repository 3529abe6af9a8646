//! Throughput of the framer and parser (being written).
fn main() {}
