//! One module per subcommand; `main.rs` turns arguments into their configs.

pub mod analyze;
pub mod causes;
pub mod explain;
pub mod fleet;
pub mod queue;
