//! Helpers are in tests/.
