//! One module per subcommand besides `analyze` (the [`crate::pipeline`]);
//! `main.rs` turns arguments into their configs.

pub mod causes;
pub mod explain;
pub mod fleet;
pub mod queue;
