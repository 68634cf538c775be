//! Work orders: the 95598 appeal lifecycle (issue 4); being written.
