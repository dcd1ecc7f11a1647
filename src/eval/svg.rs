//! Owned by the experiment work; not written yet.
