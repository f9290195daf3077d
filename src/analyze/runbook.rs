//! placeholder
use crate::model::{RunbookStep, Summary};
pub fn build(_s: &Summary) -> Vec<RunbookStep> {
    Vec::new()
}
