//! One module per subcommand besides `analyze` (the [`crate::pipeline`]);
//! `main.rs` turns arguments into their configs. Each is thin: its config
//! in, the library's calls ([`crate::analyze`], [`crate::report`]), the
//! report out; the library itself never prints.

pub mod causes;
pub mod explain;
pub mod fleet;
pub mod queue;
