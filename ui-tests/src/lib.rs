//! Compile tests for the system! macro live in tests/.
