//! The one-shot commands: `check`, `eval` and `fmt`. Each returns `Ok(true)`
//! for success, `Ok(false)` for "the answer is no" (exit 1), and `Err` for a
//! failure to do the job at all (exit 2).

pub mod check;
pub mod eval;
pub mod fmt;
