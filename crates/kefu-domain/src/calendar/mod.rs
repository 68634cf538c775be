//! Working calendar and time-limit arithmetic (issue 5); being written.
