//! A progress line on stderr while a long command runs, only when stderr is a terminal.

use std::cell::Cell;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts records and shows the count with the current phase.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    count: Cell<u64>,
    phase: Cell<&'static str>,
}

impl Progress {
    /// A progress line if stderr is a terminal and logging is not quieted, else nothing.
    pub(crate) fn new() -> Self {
        let shown = std::io::stderr().is_terminal() && !crate::output::quiet();
        let bar = shown.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec}) {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Self {
            bar,
            count: Cell::new(0),
            phase: Cell::new(""),
        }
    }

    /// One more record in `phase`; the display is refreshed every few thousand records.
    pub(crate) fn tick(&self, phase: &'static str) {
        let Some(bar) = &self.bar else { return };
        if self.phase.get() != phase {
            self.phase.set(phase);
            self.count.set(0);
            bar.set_position(0);
            bar.reset_eta();
            bar.set_message(phase);
        }
        let n = self.count.get() + 1;
        self.count.set(n);
        if n.is_multiple_of(4096) {
            bar.set_position(n);
        }
    }

    /// Removes the progress line.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
