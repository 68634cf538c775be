//! Tests of the calendar (placeholder).
