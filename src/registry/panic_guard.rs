//! The last line of defence around engine code that may assert on a value dfpolicy could not check up
//! front: a panic becomes an error message instead of ending the process.
//!
//! Every value is meant to be checked before it reaches such code (see
//! [`super::parquet_writer::WRITER_CONSTRAINTS`]); this guard turns a gap in those checks into a
//! finding rather than a crash, without printing the panic message to stderr.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Engine code panicked; the panic's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnginePanic(pub String);

/// Runs `work`, returning the panic message as an error if it panics.
pub fn without_panicking<T>(work: impl FnOnce() -> T) -> Result<T, EnginePanic> {
    install_quiet_hook();
    let was = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    GUARDED.with(|g| g.set(was));
    result.map_err(|payload| {
        EnginePanic(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the engine panicked".to_string()),
        )
    })
}

/// Keeps the default hook for every panic except those inside [`without_panicking`] on this thread.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(
            without_panicking(|| -> u8 { panic!("bad {}", 1) }),
            Err(EnginePanic("bad 1".to_string()))
        );
        assert_eq!(without_panicking(|| 7), Ok(7));
    }
}
