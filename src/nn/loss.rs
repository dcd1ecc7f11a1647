//! Owned by the engine work; not written yet.
