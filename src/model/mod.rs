//! The model both backends share: process states and their legal transitions, and the values a
//! program computes with.

pub mod state;
pub mod value;

pub use state::{Cause, State, StateGraph, is_legal_transition};
pub use value::Value;
